import type { SnapshotFrom } from "xstate";
import type { ContainerObserved } from "../../events/agent.ts";
import type { Attachment, Tag } from "../../events/shapes.ts";
import type { StopCode, TaskCreated, TaskEvent } from "../../events/task.events.ts";
import { accept, type Decision, reject, unreachable } from "../decider.ts";
import { mergeTags, removeTags } from "../tags.ts";
import { pureTransitions } from "../transition.ts";
import { eniDeleted, heldEni, withEniDeleted } from "./task.eni.ts";
import { type ContainerRecord, type TaskContext, taskMachine } from "./task.machine.ts";
import { taskArnOf } from "./task.spec.ts";
import { advancesContainer, taskStatusBefore } from "./task.status.ts";

export type TaskSnapshot = SnapshotFrom<typeof taskMachine>;

export type TaskCommand =
  | { type: "CreateTask"; event: TaskCreated }
  | { type: "StopTask"; at: number; stopCode: StopCode; reason: string }
  | { type: "ObserveContainer"; at: number; observation: ContainerObserved }
  | { type: "ObserveTaskStopping"; at: number }
  | { type: "ObserveAttachment"; at: number; attachments: Attachment[] }
  | { type: "TagTask"; at: number; tags: Tag[] }
  | { type: "UntagTask"; at: number; tagKeys: string[] }
  | { type: "SetProtection"; at: number; enabled: boolean; expiresAt?: number }
  /** The task's container instance was deregistered with force: the task stops, containers and all. */
  | { type: "StopOrphaned"; at: number; reason: string };

export const ESSENTIAL_EXITED = "Essential container in task exited";

const taskTransitions = pureTransitions(taskMachine, { copyContext: (c) => compactContext(c) });

export const initialTask = (): TaskSnapshot => taskTransitions.initial();

/** The aggregate in state `value` with `context`, as a fold would have left it (a read-model snapshot restored). */
export const restoreTask = (value: unknown, context: TaskSnapshot["context"]): TaskSnapshot =>
  taskTransitions.snapshot(value, context);

/** evolve: one decided event applied to the snapshot; `intents` are the machine's effect actions. */
export function evolveTask(snapshot: TaskSnapshot, event: TaskEvent): { snapshot: TaskSnapshot; intents: string[] } {
  const [next, actions] = taskTransitions.transition(snapshot, event);
  return { snapshot: next, intents: actions.map((a) => a.type) };
}

/**
 * The same context as an object of one fixed shape, on which every changed context is built
 * (pureTransitions' copyContext). XState's assign builds each new context with
 * `Object.assign({}, context, update)`; with this many fields V8 then keeps it as a hash table
 * ("dictionary mode"), several times larger and slower to read than a literal of fixed shape.
 * A control plane holds one task context per task, so this is most of its memory. Listing every
 * key (the mapped type makes leaving one out a type error) keeps the copy complete.
 */
export function compactContext(c: TaskContext): TaskContext {
  const out: { [K in keyof Required<TaskContext>]: TaskContext[K] } = {
    taskId: c.taskId,
    arn: c.arn,
    containerInstanceArn: c.containerInstanceArn,
    instanceId: c.instanceId,
    group: c.group,
    startedBy: c.startedBy,
    overrides: c.overrides,
    tags: c.tags,
    clientToken: c.clientToken,
    capacityProviderName: c.capacityProviderName,
    availabilityZone: c.availabilityZone,
    platformVersion: c.platformVersion,
    subnetId: c.subnetId,
    enableExecuteCommand: c.enableExecuteCommand,
    createdAt: c.createdAt,
    desiredStatus: c.desiredStatus,
    healthStatus: c.healthStatus,
    pullStartedAt: c.pullStartedAt,
    pullStoppedAt: c.pullStoppedAt,
    startedAt: c.startedAt,
    stoppingAt: c.stoppingAt,
    stoppedAt: c.stoppedAt,
    executionStoppedAt: c.executionStoppedAt,
    stopCode: c.stopCode,
    stoppedReason: c.stoppedReason,
    version: c.version,
    containers: c.containers,
    attachments: c.attachments,
    reservation: c.reservation,
    spec: c.spec,
    protection: c.protection,
  };
  return out;
}

export function foldTask(events: readonly TaskEvent[]): TaskSnapshot {
  let s = initialTask();
  for (const e of events) s = evolveTask(s, e).snapshot;
  return s;
}

/** A container that ran: it reached RUNNING, or it stopped with an exit code (it ran and exited). */
const ran = (c: ContainerRecord) =>
  c.lastStatus === "RUNNING" || (c.lastStatus === "STOPPED" && c.exitCode !== undefined);

/**
 * decide: a command and the current snapshot → the events that record it, or ECS's rejection.
 * Observations are folded in and then the task-level consequences are derived from the
 * resulting state (not from the observation alone), so a redelivered observation after a
 * partial append still produces whatever is missing.
 */
export function decideTask(command: TaskCommand, snapshot: TaskSnapshot): Decision<TaskEvent> {
  switch (command.type) {
    case "CreateTask":
      if (snapshot.value !== "NEW") return reject("InvalidParameterException", "The task already exists.");
      return accept(command.event);

    case "StopTask": {
      if (snapshot.value === "NEW") return reject("InvalidParameterException", "The referenced task was not found.");
      const e: TaskEvent = {
        type: "TaskStopRequested",
        at: command.at,
        stopCode: command.stopCode,
        reason: command.reason,
      };
      // Stopping a task that is already stopping or stopped is not an error in ECS; it changes nothing.
      return accept(...(snapshot.can(e) ? [e] : []));
    }

    case "ObserveContainer":
      return accept(...observeContainer(snapshot, command.observation, command.at));

    case "ObserveTaskStopping": {
      const e: TaskEvent = { type: "TaskStopping", at: command.at };
      const status = snapshot.value as string;
      const advances = status !== "NEW" && taskStatusBefore(status as never, "STOPPING");
      return accept(...(advances && snapshot.can(e) ? [e] : []));
    }

    case "ObserveAttachment":
      return accept(...observeAttachments(snapshot, command.attachments, command.at));

    case "TagTask": {
      if (snapshot.value === "NEW") return reject("ResourceNotFoundException", "The specified task was not found.");
      const tags = mergeTags(snapshot.context.tags, command.tags);
      return accept({ type: "TaskTagsChanged", at: command.at, tags });
    }

    case "UntagTask": {
      if (snapshot.value === "NEW") return reject("ResourceNotFoundException", "The specified task was not found.");
      const tags = removeTags(snapshot.context.tags, command.tagKeys);
      return accept({ type: "TaskTagsChanged", at: command.at, tags });
    }

    case "SetProtection": {
      if (snapshot.value === "NEW") return reject("ResourceNotFoundException", "The specified task was not found.");
      // Only service tasks that are still wanted can be protected from scale-in (ECS: TASK_NOT_VALID).
      if (!snapshot.context.group.startsWith("service:") || snapshot.context.desiredStatus !== "RUNNING")
        return reject("InvalidParameterException", "TASK_NOT_VALID");
      return accept({
        type: "TaskProtectionChanged",
        at: command.at,
        protectionEnabled: command.enabled,
        ...(command.enabled && command.expiresAt !== undefined ? { expiresAt: command.expiresAt } : {}),
      });
    }

    case "StopOrphaned":
      return accept(...stopOrphaned(snapshot, command.at, command.reason));

    default:
      return unreachable(command);
  }
}

/**
 * As in ECS, a container instance deregistered with force moves every task on it to STOPPED, its
 * containers too, whatever its host still runs: the task is orphaned, no longer accounted for.
 * The stop request comes first (unless one was made), then each container as an agent would have
 * reported it stopped, and with the last one the task.
 */
function stopOrphaned(snapshot: TaskSnapshot, at: number, reason: string): TaskEvent[] {
  if (snapshot.value === "NEW" || snapshot.value === "STOPPED") return [];
  const events: TaskEvent[] = [];
  let s = snapshot;
  const stop: TaskEvent = { type: "TaskStopRequested", at, stopCode: "UserInitiated", reason };
  if (s.can(stop)) {
    events.push(stop);
    s = evolveTask(s, stop).snapshot;
  }
  const t = s.context;
  for (const c of t.containers) {
    if (c.lastStatus === "STOPPED") continue;
    const o: ContainerObserved = {
      type: "ContainerObserved",
      at,
      instanceId: t.instanceId ?? "",
      taskArn: taskArnOf(t),
      containerName: c.name,
      status: "STOPPED",
      reason,
    };
    for (const e of observeContainer(s, o, at, { releaseNetwork: true })) {
      events.push(e);
      s = evolveTask(s, e).snapshot;
    }
  }
  // Its containers stopped before, the task was waiting for its interface: no agent will let it go now.
  if (s.value === "DEPROVISIONING") events.push(...finishStopping(s, at, true));
  return events;
}

/**
 * The task's attachments as observed. An interface reported let go while the task deprovisions
 * is deleted, and the task is STOPPED; once deleted, later reports of it change nothing (a
 * redelivered or late DETACHED cannot bring it back).
 */
function observeAttachments(snapshot: TaskSnapshot, attachments: Attachment[], at: number): TaskEvent[] {
  if (snapshot.value === "STOPPED" && eniDeleted(snapshot.context.attachments)) return [];
  const events: TaskEvent[] = [];
  let s = snapshot;
  const e: TaskEvent = { type: "TaskAttachmentsChanged", at, attachments };
  if (JSON.stringify(s.context.attachments) !== JSON.stringify(attachments) && s.can(e)) {
    events.push(e);
    s = evolveTask(s, e).snapshot;
  }
  if (s.value === "DEPROVISIONING") events.push(...finishStopping(s, at, false));
  return events;
}

/**
 * What a task whose containers have all stopped records next. An awsvpc task whose interface
 * its agent still holds goes to DEPROVISIONING and waits for it to be let go; otherwise its
 * interface (if any) is deleted and the task is STOPPED. `releaseNetwork`: the interface is let
 * go now, whoever held it (the task's instance was deregistered with force).
 */
function finishStopping(snapshot: TaskSnapshot, at: number, releaseNetwork: boolean): TaskEvent[] {
  if (snapshot.value === "STOPPED") return [];
  if (heldEni(snapshot.context.attachments) && !releaseNetwork)
    return snapshot.value === "DEPROVISIONING" ? [] : [{ type: "TaskDeprovisioning", at }];
  const deleted = withEniDeleted(snapshot.context.attachments);
  const deletion: TaskEvent[] = deleted ? [{ type: "TaskAttachmentsChanged", at, attachments: deleted }] : [];
  const stop: TaskEvent = { type: "TaskStopped", at, executionStoppedAt: at };
  // The interface goes before the task stops; a PROVISIONING task would take that change for its
  // move to PENDING, so it stops first.
  return snapshot.value === "PROVISIONING" ? [stop, ...deletion] : [...deletion, stop];
}

function observeContainer(
  snapshot: TaskSnapshot,
  o: ContainerObserved,
  at: number,
  opts: { releaseNetwork?: boolean } = {},
): TaskEvent[] {
  if (snapshot.value === "NEW") return [];
  const known = snapshot.context.containers.find((c) => c.name === o.containerName);
  if (!known) return [];
  const events: TaskEvent[] = [];
  let s = snapshot;
  const push = (e: TaskEvent) => {
    if (!s.can(e)) return;
    events.push(e);
    s = evolveTask(s, e).snapshot;
  };

  if (changes(known, o)) {
    push({
      type: "TaskContainerChanged",
      at,
      name: o.containerName,
      lastStatus: advancesContainer(known.lastStatus, o.status) ? o.status : known.lastStatus,
      ...pick(o),
    });
  }

  const ctx: TaskContext = s.context;
  const status = s.value as string;
  const all = ctx.containers;
  if (ctx.desiredStatus === "RUNNING" && taskStatusBefore(status as never, "RUNNING") && all.every(ran)) {
    push({ type: "TaskStarted", at });
  }
  const health = taskHealth(s.context);
  if (health !== s.context.healthStatus) push({ type: "TaskHealthChanged", at, healthStatus: health });
  const exited = s.context.containers.find((c) => c.essential && c.lastStatus === "STOPPED");
  if (s.context.desiredStatus === "RUNNING" && exited) {
    push(
      ran(exited)
        ? { type: "TaskStopRequested", at, stopCode: "EssentialContainerExited", reason: ESSENTIAL_EXITED }
        : {
            type: "TaskStopRequested",
            at,
            stopCode: "TaskFailedToStart",
            reason: exited.reason ?? `Essential container ${exited.name} failed to start`,
          },
    );
  }
  if (s.value !== "STOPPED" && s.context.containers.every((c) => c.lastStatus === "STOPPED")) {
    for (const e of finishStopping(s, at, opts.releaseNetwork ?? false)) push(e);
  }
  return events;
}

/**
 * ECS's task health: HEALTHY when every essential container that has a health check is HEALTHY,
 * UNHEALTHY when any of them is UNHEALTHY, UNKNOWN otherwise (none defined, or still evaluating).
 * Health of non-essential containers is ignored.
 */
export function taskHealth(ctx: TaskContext): "HEALTHY" | "UNHEALTHY" | "UNKNOWN" {
  const checked = ctx.containers.filter(
    (c) => c.essential && ctx.spec.containers.some((d) => d.name === c.name && d.healthCheck),
  );
  if (checked.length === 0) return "UNKNOWN";
  if (checked.some((c) => c.healthStatus === "UNHEALTHY")) return "UNHEALTHY";
  return checked.every((c) => c.healthStatus === "HEALTHY") ? "HEALTHY" : "UNKNOWN";
}

/** Does the observation tell us anything new about the container? Status never moves back. */
function changes(known: ContainerRecord, o: ContainerObserved): boolean {
  if (advancesContainer(known.lastStatus, o.status)) return true;
  if (known.lastStatus === "STOPPED" && o.status !== "STOPPED") return false;
  if (o.exitCode !== undefined && o.exitCode !== known.exitCode) return true;
  if (o.healthStatus !== undefined && o.healthStatus !== known.healthStatus) return true;
  if (o.runtimeId !== undefined && o.runtimeId !== known.runtimeId) return true;
  if (o.reason !== undefined && o.reason !== known.reason) return true;
  if (o.networkBindings !== undefined && JSON.stringify(o.networkBindings) !== JSON.stringify(known.networkBindings))
    return true;
  return false;
}

function pick(o: ContainerObserved) {
  const out: Partial<Extract<TaskEvent, { type: "TaskContainerChanged" }>> = {};
  if (o.runtimeId !== undefined) out.runtimeId = o.runtimeId;
  if (o.imageDigest !== undefined) out.imageDigest = o.imageDigest;
  if (o.exitCode !== undefined) out.exitCode = o.exitCode;
  if (o.reason !== undefined) out.reason = o.reason;
  if (o.networkBindings !== undefined) out.networkBindings = o.networkBindings;
  if (o.networkInterfaces !== undefined) out.networkInterfaces = o.networkInterfaces;
  if (o.healthStatus !== undefined) out.healthStatus = o.healthStatus;
  if (o.pullStartedAt !== undefined) out.pullStartedAt = o.pullStartedAt;
  if (o.pullStoppedAt !== undefined) out.pullStoppedAt = o.pullStoppedAt;
  return out;
}
