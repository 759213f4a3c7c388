import type { ContainerObserved } from "../../events/agent.ts";
import { type ContainerInfo, type DockerPort, isDockerError } from "./docker/port.ts";
import { imageDigest } from "./images.ts";
import { OOM_REASON, observeContainer } from "./observation.ts";
import type { ObservationPublisher } from "./publisher.ts";
import type { AgentStateStore, ContainerRecord, TaskRecord } from "./state.ts";

/**
 * Turns a task's containers into observations and keeps the task record in step with what was
 * published: a STOPPED fact is written to the record only after JetStream stored it. Used by the
 * TaskRunner inside its per-task serial queue, so it never races itself on one task.
 */
/** How long reading Docker's log of a container's events may take before the exit is reported without it. */
const OOM_LOG_TIMEOUT_MS = 2_000;

export class ContainerReporter {
  private readonly digests = new Map<string, string | undefined>();
  /** Containers Docker sent an `oom` event for, until they are seen STOPPED or gone. */
  private readonly oomEvents = new Set<string>();

  constructor(
    private readonly o: {
      docker: DockerPort;
      publisher: ObservationPublisher;
      store: AgentStateStore;
      instanceId: string;
      clock: () => number;
      signal: AbortSignal;
    },
  ) {}

  /** Docker said the kernel killed a process of this container for memory (its `oom` event). */
  noteOom(containerId: string): void {
    this.oomEvents.add(containerId);
  }

  /**
   * Whether Docker logged an `oom` event for a container that was killed (137) without
   * State.OOMKilled. The event stream may not have brought it yet: a container that dies at once
   * is inspected right after its start, and Docker can clear OOMKilled when it processes the exit
   * (observation.ts). Its own log of recent events is asked, which answers at once; when it cannot
   * be read, the exit is reported without the OOM reason, as the inspect alone says. An `oom`
   * event that comes after the exit was reported (cgroup v2 can send it late) refreshes the
   * container like any event, and it is reported again, with the reason.
   */
  private async oomLogged(info: ContainerInfo): Promise<boolean> {
    const s = info.state;
    if (s.oomKilled || s.exitCode !== 137 || s.status === "running" || s.startedAt === undefined) return false;
    try {
      const events = await this.o.docker.containerEventsBetween(info.id, {
        since: s.startedAt,
        until: Date.now(),
        signal: this.o.signal,
        timeoutMs: OOM_LOG_TIMEOUT_MS,
      });
      return events.some((e) => e.action === "oom");
    } catch {
      return false;
    }
  }

  /** Inspects one container and publishes its state; returns what was published (undefined when gone). */
  async observe(rec: TaskRecord, id: string, name: string): Promise<ContainerObserved | undefined> {
    const cr = containerRecord(rec, name);
    let info: ContainerInfo;
    try {
      info = await this.o.docker.inspectContainer(id, { signal: this.o.signal });
    } catch (err) {
      if (!isDockerError(err, "not-found")) throw err;
      if (cr.stopped) await this.reportLateOom(rec, id, name);
      else await this.reportAbsent(rec, name, "Container was removed from the host");
      this.oomEvents.delete(id);
      return undefined;
    }
    if (!this.digests.has(info.imageId)) this.digests.set(info.imageId, await imageDigest(this.o.docker, info.imageId));
    const obs = observeContainer(info, {
      instanceId: this.o.instanceId,
      taskArn: rec.taskArn,
      containerName: name,
      at: this.o.clock(),
      imageDigest: this.digests.get(info.imageId),
      pullStartedAt: cr.pullStartedAt,
      pullStoppedAt: cr.pullStoppedAt,
      definition: rec.spec?.containers.find((d) => d.name === name),
      oomEvent: this.oomEvents.has(info.id) || (await this.oomLogged(info)),
    });
    if (obs.status === "STOPPED") this.oomEvents.delete(info.id);
    if (rec.attachment) {
      obs.networkInterfaces = [
        {
          attachmentId: rec.attachment.attachmentId,
          ...(rec.attachment.privateIPv4Address ? { privateIpv4Address: rec.attachment.privateIPv4Address } : {}),
        },
      ];
    }
    if (info.state.startedAt !== undefined && !cr.started) cr.started = true;
    cr.runtimeId = info.id;
    await this.o.publisher.publish(obs);
    if (obs.status === "STOPPED") {
      cr.stopped = obs;
      await this.save(rec);
    }
    return obs;
  }

  /**
   * Docker's `oom` event for a container already reported STOPPED and since removed (cgroup v2
   * can send it late, and a task's containers are removed once every STOPPED fact is stored):
   * the STOPPED fact again, now with the OOM reason, if it was a kill (137) reported without one.
   */
  async reportLateOom(rec: TaskRecord, id: string, name: string): Promise<void> {
    if (!this.oomEvents.delete(id)) return;
    const stopped = rec.containers[name]?.stopped;
    if (!stopped || stopped.runtimeId !== id || stopped.exitCode !== 137 || stopped.reason !== undefined) return;
    const obs: ContainerObserved = { ...stopped, at: this.o.clock(), reason: OOM_REASON };
    await this.o.publisher.publish(obs);
    containerRecord(rec, name).stopped = obs;
    await this.save(rec);
  }

  reportFailure(rec: TaskRecord, name: string, reason: string, runtimeId?: string): Promise<void> {
    return this.publishStopped(rec, name, { reason, ...(runtimeId ? { runtimeId } : {}) });
  }

  /** The container does not exist: republish its last STOPPED fact, or report it STOPPED now. */
  async reportAbsent(rec: TaskRecord, name: string, reason?: string): Promise<void> {
    const cr = rec.containers[name];
    if (cr?.stopped) {
      await this.o.publisher.publish(cr.stopped);
      return;
    }
    await this.publishStopped(rec, name, {
      ...(cr?.runtimeId ? { runtimeId: cr.runtimeId } : {}),
      ...(reason && cr?.started ? { reason } : {}),
    });
  }

  async publishStopped(
    rec: TaskRecord,
    name: string,
    extra: Pick<ContainerObserved, "runtimeId" | "reason">,
  ): Promise<void> {
    const cr = containerRecord(rec, name);
    const obs: ContainerObserved = {
      type: "ContainerObserved",
      at: this.o.clock(),
      instanceId: this.o.instanceId,
      taskArn: rec.taskArn,
      containerName: name,
      status: "STOPPED",
      ...extra,
      ...(cr.pullStartedAt !== undefined ? { pullStartedAt: cr.pullStartedAt } : {}),
      ...(cr.pullStoppedAt !== undefined ? { pullStoppedAt: cr.pullStoppedAt } : {}),
    };
    await this.o.publisher.publish(obs);
    cr.stopped = obs;
    await this.save(rec);
  }

  save(rec: TaskRecord): Promise<void> {
    rec.updatedAt = this.o.clock();
    return this.o.store.saveTask(rec);
  }
}

export function containerRecord(rec: TaskRecord, name: string): ContainerRecord {
  const existing = rec.containers[name];
  if (existing) return existing;
  const created: ContainerRecord = {};
  rec.containers[name] = created;
  return created;
}
