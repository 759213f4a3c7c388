import type { SnapshotFrom } from "xstate";
import type { InstanceEvent, InstanceRegistered } from "../../events/instance.events.ts";
import type { Tag } from "../../events/shapes.ts";
import { accept, type Decision, reject, unreachable } from "../decider.ts";
import { mergeTags, removeTags } from "../tags.ts";
import { pureTransitions } from "../transition.ts";
import { type InstanceContext, instanceMachine } from "./instance.machine.ts";

export type InstanceSnapshot = SnapshotFrom<typeof instanceMachine>;

export type InstanceCommand =
  | { type: "Register"; event: InstanceRegistered }
  | { type: "Reregister"; event: Extract<InstanceEvent, { type: "InstanceReregistered" }> }
  | { type: "Heartbeat"; at: number }
  | { type: "MarkDisconnected"; at: number; lastHeartbeatAt: number }
  | { type: "ObserveRuntimeHealth"; at: number; status: "OK" | "IMPAIRED" }
  | { type: "SetStatus"; at: number; status: "ACTIVE" | "DRAINING" }
  | { type: "Deregister"; at: number; force: boolean; runningTasks: number }
  | { type: "PutAttributes"; at: number; attributes: { name: string; value?: string }[] }
  | { type: "DeleteAttributes"; at: number; names: string[] }
  | { type: "Tag"; at: number; tags: Tag[] }
  | { type: "Untag"; at: number; tagKeys: string[] };

/** ECS allows at most 10 custom attributes per resource. */
export const MAX_CUSTOM_ATTRIBUTES = 10;

const instanceTransitions = pureTransitions(instanceMachine, { copyContext: (c) => compactInstanceContext(c) });

/**
 * The same context as an object of one fixed shape (pureTransitions' copyContext), for the reason
 * compactContext in task.decide.ts gives: built by XState's `Object.assign({}, context, update)`,
 * every instance's context got a hidden class of its own (~400 bytes each at 10,000 instances).
 */
export function compactInstanceContext(c: InstanceContext): InstanceContext {
  const out: { [K in keyof Required<InstanceContext>]: InstanceContext[K] } = {
    containerInstanceArn: c.containerInstanceArn,
    instanceId: c.instanceId,
    cluster: c.cluster,
    ec2InstanceId: c.ec2InstanceId,
    hostname: c.hostname,
    registeredResources: c.registeredResources,
    attributes: c.attributes,
    versionInfo: c.versionInfo,
    capacity: c.capacity,
    tags: c.tags,
    registeredAt: c.registeredAt,
    agentConnected: c.agentConnected,
    lastHeartbeatAt: c.lastHeartbeatAt,
    customAttributes: c.customAttributes,
    version: c.version,
    deregisteredAt: c.deregisteredAt,
    runtimeHealth: c.runtimeHealth,
  };
  return out;
}

export const initialInstance = (): InstanceSnapshot => instanceTransitions.initial();

/** The aggregate in state `value` with `context`, as a fold would have left it (a read-model snapshot restored). */
export const restoreInstance = (value: unknown, context: InstanceSnapshot["context"]): InstanceSnapshot =>
  instanceTransitions.snapshot(value, context);

export function evolveInstance(s: InstanceSnapshot, e: InstanceEvent): InstanceSnapshot {
  return instanceTransitions.transition(s, e)[0];
}

export function foldInstance(events: readonly InstanceEvent[]): InstanceSnapshot {
  return events.reduce(evolveInstance, initialInstance());
}

const live = (s: InstanceSnapshot) => s.value === "ACTIVE" || s.value === "DRAINING";
const notFound = () =>
  reject<InstanceEvent>("InvalidParameterException", "The referenced container instance was not found.");

export function decideInstance(command: InstanceCommand, s: InstanceSnapshot): Decision<InstanceEvent> {
  switch (command.type) {
    case "Register":
      return s.value === "NEW"
        ? accept(command.event)
        : reject("InvalidParameterException", "The container instance is already registered.");
    case "Reregister":
      if (!live(s)) return reject("ClientException", "The container instance is not active; register a new one.");
      return accept(command.event);
    case "Heartbeat":
      // Only a change of connectivity is a fact worth recording; heartbeats themselves live in KV.
      return live(s) && !s.context.agentConnected
        ? accept({ type: "InstanceAgentConnected", at: command.at })
        : accept();
    case "MarkDisconnected":
      return live(s) && s.context.agentConnected
        ? accept({ type: "InstanceAgentDisconnected", at: command.at, lastHeartbeatAt: command.lastHeartbeatAt })
        : accept();
    case "ObserveRuntimeHealth":
      // As with connectivity, only a change is a fact; the checks themselves ride on heartbeats.
      return live(s) && s.context.runtimeHealth?.status !== command.status
        ? accept({ type: "InstanceRuntimeHealthChanged", at: command.at, status: command.status })
        : accept();
    case "SetStatus": {
      if (!live(s)) return notFound();
      if (s.value === command.status) return accept();
      return accept({ type: "InstanceStatusChanged", at: command.at, status: command.status });
    }
    case "Deregister":
      if (!live(s)) return notFound();
      if (command.runningTasks > 0 && !command.force)
        return reject(
          "InvalidParameterException",
          "Found running tasks on the instance. Use force to deregister the container instance.",
        );
      return accept({ type: "InstanceDeregistered", at: command.at, force: command.force });
    case "PutAttributes": {
      if (!live(s)) return reject("TargetNotFoundException", "Could not find the target container instance.");
      const names = new Set([
        ...s.context.customAttributes.map((a) => a.name),
        ...command.attributes.map((a) => a.name),
      ]);
      if (names.size > MAX_CUSTOM_ATTRIBUTES)
        return reject("AttributeLimitExceededException", "You can apply up to 10 custom attributes per resource.");
      return accept({ type: "InstanceAttributesPut", at: command.at, attributes: command.attributes });
    }
    case "DeleteAttributes":
      if (!live(s)) return reject("TargetNotFoundException", "Could not find the target container instance.");
      return accept({ type: "InstanceAttributesDeleted", at: command.at, names: command.names });
    case "Tag":
      if (s.value === "NEW") return reject("ResourceNotFoundException", "The specified resource could not be found.");
      return accept({ type: "InstanceTagsChanged", at: command.at, tags: mergeTags(s.context.tags, command.tags) });
    case "Untag":
      if (s.value === "NEW") return reject("ResourceNotFoundException", "The specified resource could not be found.");
      return accept({ type: "InstanceTagsChanged", at: command.at, tags: removeTags(s.context.tags, command.tagKeys) });
    default:
      return unreachable(command);
  }
}
