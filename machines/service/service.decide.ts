import type { SnapshotFrom } from "xstate";
import type {
  DeploymentSpec,
  RolloutState,
  ServiceCreated,
  ServiceEvent,
  ServiceSettings,
} from "../../events/service.events.ts";
import type { Tag } from "../../events/shapes.ts";
import { accept, type Decision, reject, unreachable } from "../decider.ts";
import { mergeTags, removeTags } from "../tags.ts";
import { pureTransitions } from "../transition.ts";
import { serviceMachine, serviceRevisionOf } from "./service.machine.ts";

export type ServiceSnapshot = SnapshotFrom<typeof serviceMachine>;

export type ServiceCommand =
  | { type: "CreateService"; event: ServiceCreated }
  | { type: "UpdateService"; at: number; settings: Partial<ServiceSettings>; deployment?: DeploymentSpec }
  | { type: "DeleteService"; at: number; force: boolean }
  | { type: "MarkDrained"; at: number }
  | { type: "RecordMessage"; at: number; id: string; message: string; key: string; reason?: string }
  | {
      type: "RecordPlacement";
      at: number;
      deploymentId: string;
      tasks: Extract<ServiceEvent, { type: "ServiceTasksPlaced" }>["tasks"];
    }
  | {
      type: "SetRollout";
      at: number;
      deploymentId: string;
      rolloutState: RolloutState;
      reason: string;
      rollback?: DeploymentSpec;
    }
  | { type: "RetireDeployment"; at: number; deploymentId: string }
  /** StopServiceDeployment with stopType ROLLBACK: `rollbackId` is the id of the deployment that rolls back. */
  | { type: "StopServiceDeployment"; at: number; deploymentId: string; rollbackId: string }
  | { type: "TagService"; at: number; tags: Tag[] }
  | { type: "UntagService"; at: number; tagKeys: string[] };

/** ECS suppresses a repeated service message until something else happened or 6 hours passed. */
export const MESSAGE_REPEAT_WINDOW_MS = 6 * 3600_000;

const serviceTransitions = pureTransitions(serviceMachine);

export const initialService = (): ServiceSnapshot => serviceTransitions.initial();

/** The aggregate in state `value` with `context`, as a fold would have left it (a read-model snapshot restored). */
export const restoreService = (value: unknown, context: ServiceSnapshot["context"]): ServiceSnapshot =>
  serviceTransitions.snapshot(value, context);
export const evolveService = (s: ServiceSnapshot, e: ServiceEvent): ServiceSnapshot =>
  serviceTransitions.transition(s, e)[0];
export const foldService = (events: readonly ServiceEvent[]) => events.reduce(evolveService, initialService());

const active = (s: ServiceSnapshot) => s.value === "ACTIVE";
const notActive = () => reject<ServiceEvent>("ServiceNotActiveException", "Service was not ACTIVE.");
const notFound = () => reject<ServiceEvent>("ServiceNotFoundException", "Service not found.");

export function decideService(command: ServiceCommand, s: ServiceSnapshot): Decision<ServiceEvent> {
  switch (command.type) {
    case "CreateService":
      if (active(s) || s.value === "DRAINING") {
        const same = command.event.clientToken !== undefined && command.event.clientToken === s.context.clientToken;
        return same ? accept() : reject("InvalidParameterException", "Creation of service was not idempotent.");
      }
      return accept(command.event);

    case "UpdateService": {
      if (s.value === "NEW") return notFound();
      if (!active(s)) return notActive();
      // One event: settings and the deployment they come with are stored together or not at all.
      const changed = Object.keys(command.settings).length > 0;
      if (command.deployment)
        return accept({
          type: "DeploymentStarted",
          at: command.at,
          deployment: command.deployment,
          ...(changed ? { settings: command.settings } : {}),
        });
      return changed ? accept({ type: "ServiceSettingsChanged", at: command.at, settings: command.settings }) : accept();
    }

    case "DeleteService":
      if (s.value === "NEW") return notFound();
      if (!active(s)) return notActive();
      if (!command.force && s.context.schedulingStrategy === "REPLICA" && s.context.settings.desiredCount > 0)
        return reject("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.");
      return accept({ type: "ServiceDeleted", at: command.at, force: command.force });

    case "MarkDrained":
      return s.value === "DRAINING" ? accept({ type: "ServiceDrained", at: command.at }) : accept();

    case "RecordMessage": {
      if (s.value === "NEW") return notFound();
      const last = s.context.messages[0];
      const repeat =
        last &&
        last.key === command.key &&
        last.message === command.message &&
        command.at - last.createdAt < MESSAGE_REPEAT_WINDOW_MS;
      return repeat
        ? accept()
        : accept({
            type: "ServiceEventRecorded",
            at: command.at,
            id: command.id,
            message: command.message,
            key: command.key,
            ...(command.reason === undefined ? {} : { reason: command.reason }),
          });
    }

    case "RecordPlacement":
      if (!active(s)) return notActive();
      if (!s.context.deployments.some((d) => d.id === command.deploymentId))
        return reject("InvalidParameterException", `Unknown deployment ${command.deploymentId}.`);
      return accept({
        type: "ServiceTasksPlaced",
        at: command.at,
        deploymentId: command.deploymentId,
        tasks: command.tasks,
      });

    case "SetRollout": {
      const d = s.context.deployments.find((x) => x.id === command.deploymentId);
      if (!d || (d.rolloutState === command.rolloutState && d.rolloutStateReason === command.reason)) return accept();
      return accept({
        type: "DeploymentRolloutChanged",
        at: command.at,
        deploymentId: command.deploymentId,
        rolloutState: command.rolloutState,
        reason: command.reason,
        ...(command.rollback && active(s) ? { rollback: command.rollback } : {}),
      });
    }

    case "RetireDeployment": {
      const i = s.context.deployments.findIndex((x) => x.id === command.deploymentId);
      // The PRIMARY deployment (first) is never retired.
      return i > 0
        ? accept({ type: "DeploymentRetired", at: command.at, deploymentId: command.deploymentId })
        : accept();
    }

    case "StopServiceDeployment": {
      if (!active(s)) return notActive();
      const h = s.context.history.find((x) => x.id === command.deploymentId);
      if (!h) return reject("ServiceDeploymentNotFoundException", "The service deployment does not exist.");
      // ECS: a deployment already rolling back goes on doing so.
      if (h.status === "ROLLBACK_IN_PROGRESS") return accept();
      if (h.status !== "IN_PROGRESS" || s.context.deployments[0]?.id !== h.id)
        return reject("ConflictException", `The service deployment is ${h.status}: only one in progress can be stopped.`);
      // The previous service revision: the last deployment that completed, else the one it replaced.
      const previous = s.context.lastCompleted ?? s.context.revisions.find((r) => r.spec.id === h.sources[0])?.spec;
      if (!previous)
        return reject("InvalidParameterException", "The service deployment has no previous service revision to roll back to.");
      const reason = `Service deployment ${h.id} stopped by StopServiceDeployment: rolling back.`;
      return accept({
        type: "DeploymentRolloutChanged",
        at: command.at,
        deploymentId: h.id,
        rolloutState: "FAILED",
        reason,
        rollback: { ...previous, id: command.rollbackId, rollbackOf: h.id, revision: serviceRevisionOf(previous) },
      });
    }

    case "TagService":
      if (s.value === "NEW") return reject("ResourceNotFoundException", "The specified resource could not be found.");
      return accept({ type: "ServiceTagsChanged", at: command.at, tags: mergeTags(s.context.tags, command.tags) });

    case "UntagService":
      if (s.value === "NEW") return reject("ResourceNotFoundException", "The specified resource could not be found.");
      return accept({ type: "ServiceTagsChanged", at: command.at, tags: removeTags(s.context.tags, command.tagKeys) });

    default:
      return unreachable(command);
  }
}
