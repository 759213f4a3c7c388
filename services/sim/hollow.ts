import type { ContainerObserved, Observation } from "../../events/agent.ts";
import { contentHash } from "../../events/envelope.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { eniAttachmentId } from "../../machines/task/task.eni.ts";

/**
 * One hollow container instance: what a real agent would know about its tasks, without Docker.
 * It turns directives into the observations a real agent publishes for them, and nothing else —
 * no I/O, no clock, no timers (the fleet supplies `at` and decides when a start completes).
 *
 *   StartTask ─► PENDING ─(start latency)─► RUNNING          (or STOPPED: failed to start)
 *   StopTask  ─► TaskStoppingObserved, every container STOPPED
 *   exit()    ─► every container STOPPED with the exit code   (a crash, for trying recovery)
 *
 * An awsvpc task's interface is reported as the real agent reports its task network: ATTACHED
 * (with an address) before its containers start, DETACHED once they have all stopped.
 */

export type HollowContainerStatus = ContainerObserved["status"];

export interface HollowTask {
  taskArn: string;
  taskId: string;
  containers: { name: string; runtimeId: string; status: HollowContainerStatus; exitCode?: number; reason?: string }[];
  /** A StopTask came before the start completed: the start is abandoned. */
  stopRequested: boolean;
  /** When the task's containers all stopped (for pruning old records). */
  stoppedAt?: number;
  awsvpc: boolean;
  /** An awsvpc task's interface was attached (its start went ahead); it is let go once its containers all stop. */
  attached: boolean;
}

/** Reason ECS's agent gives for a container Docker could not start; the simulated failure says so. */
export const SIMULATED_FAILURE = "CannotStartContainerError: simulated start failure (berth sim --failure-rate)";
/** What `docker stop` leaves as the exit code of a process that exits on SIGTERM. */
export const SIGTERM_EXIT = 143;

/** A deterministic 64-hex "container id" per task container, like Docker's. */
export function runtimeIdOf(taskId: string, name: string): string {
  const h = (s: string) => contentHash(s);
  return `${h(`${taskId}/${name}`)}${h(`${name}/${taskId}`)}${h(taskId)}${h(name)}${taskId}`.slice(0, 64);
}

export class HollowInstance {
  readonly tasks = new Map<string, HollowTask>();

  constructor(
    readonly instanceId: string,
    readonly containerInstanceArn: string,
  ) {}

  /**
   * A StartTask directive arrived. `fresh` says the start must now be simulated; a repeat
   * (redelivery) leaves the task as it is, and the caller publishes its current facts again.
   */
  accept(spec: TaskRuntimeSpec): { task: HollowTask; fresh: boolean } {
    const known = this.tasks.get(spec.taskArn);
    if (known) return { task: known, fresh: false };
    const task: HollowTask = {
      taskArn: spec.taskArn,
      taskId: spec.taskId,
      containers: spec.containers.map((c) => ({ name: c.name, runtimeId: runtimeIdOf(spec.taskId, c.name), status: "PENDING" })),
      stopRequested: false,
      awsvpc: spec.networkMode === "awsvpc",
      attached: false,
    };
    this.tasks.set(spec.taskArn, task);
    return { task, fresh: true };
  }

  /** The start latency elapsed: every container RUNNING, or every container STOPPED when `fail`. */
  complete(task: HollowTask, at: number, fail: boolean): Observation[] {
    if (task.stopRequested || task.containers.some((c) => c.status !== "PENDING")) return [];
    task.attached = task.awsvpc;
    for (const c of task.containers) {
      if (fail) {
        c.status = "STOPPED";
        c.reason = SIMULATED_FAILURE;
      } else c.status = "RUNNING";
    }
    if (fail) task.stoppedAt = at;
    return this.facts(task, at);
  }

  /** A StopTask directive: stop what runs, report every container STOPPED. */
  stop(taskArn: string, containerNames: readonly string[], at: number): Observation[] {
    const task = this.tasks.get(taskArn);
    if (!task) {
      // Never started here (or long forgotten): report each named container STOPPED, as a real agent does.
      return containerNames.map((name) => this.container(taskArn, name, undefined, "STOPPED", at));
    }
    task.stopRequested = true;
    const wasLive = task.containers.some((c) => c.status !== "STOPPED");
    for (const c of task.containers) {
      if (c.status === "STOPPED") continue;
      if (c.status === "RUNNING") c.exitCode = SIGTERM_EXIT;
      c.status = "STOPPED";
    }
    if (wasLive) task.stoppedAt = at;
    const stopping: Observation = { type: "TaskStoppingObserved", at, instanceId: this.instanceId, taskArn };
    return [stopping, ...this.facts(task, at, { attach: false })];
  }

  /** Every container of a running task exits with `exitCode` (a simulated crash). */
  exit(taskArn: string, exitCode: number, at: number): Observation[] {
    const task = this.tasks.get(taskArn);
    if (!task || task.containers.every((c) => c.status === "STOPPED")) return [];
    for (const c of task.containers) {
      if (c.status === "STOPPED") continue;
      c.status = "STOPPED";
      c.exitCode = exitCode;
    }
    task.stoppedAt = at;
    return this.facts(task, at, { attach: false });
  }

  /**
   * The current fact about each container (a repeat publishes the same msgIDs: stored once), and
   * about an awsvpc task's interface: attached before them, let go after them once they all stopped.
   */
  facts(task: HollowTask, at: number, { attach = true } = {}): Observation[] {
    const containers = task.containers.map((c) => this.container(task.taskArn, c.name, c.runtimeId, c.status, at, c.exitCode, c.reason));
    if (!task.attached) return containers;
    const before = attach ? [this.attachment(task, "ATTACHED", at)] : [];
    if (!containers.every((c) => c.status === "STOPPED")) return [...before, ...containers];
    return [...before, ...containers, this.attachment(task, "DETACHED", at)];
  }

  /** Drops records of tasks stopped before `before`; returns how many. */
  prune(before: number): number {
    let n = 0;
    for (const [arn, t] of this.tasks) {
      if (t.stoppedAt !== undefined && t.stoppedAt < before) {
        this.tasks.delete(arn);
        n++;
      }
    }
    return n;
  }

  /** The interface as the real agent reports it: the attachment id the task was created with, an address of its own. */
  private attachment(task: HollowTask, status: "ATTACHED" | "DETACHED", at: number): Extract<Observation, { type: "TaskAttachmentObserved" }> {
    const h = contentHash(`eni/${task.taskId}`) + contentHash(`${task.taskId}/eni`);
    const byte = (i: number) => Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
    return {
      type: "TaskAttachmentObserved",
      at,
      instanceId: this.instanceId,
      taskArn: task.taskArn,
      attachmentId: eniAttachmentId(task.taskId),
      status,
      // A private address in 10.0.0.0/8 and a locally administered MAC, both from the task id.
      privateIPv4Address: `10.${byte(0)}.${byte(1)}.${(byte(2) % 254) + 1}`,
      macAddress: `02:${[0, 1, 2, 3, 4].map((i) => h.slice(2 * i + 6, 2 * i + 8)).join(":")}`,
    };
  }

  private container(
    taskArn: string,
    containerName: string,
    runtimeId: string | undefined,
    status: HollowContainerStatus,
    at: number,
    exitCode?: number,
    reason?: string,
  ): ContainerObserved {
    return {
      type: "ContainerObserved",
      at,
      instanceId: this.instanceId,
      taskArn,
      containerName,
      status,
      ...(runtimeId ? { runtimeId } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(reason ? { reason } : {}),
    };
  }
}
