import type { ContainerObserved } from "../../events/agent.ts";
import { type ContainerInfo, type DockerPort, isDockerError } from "./docker/port.ts";
import { imageDigest } from "./images.ts";
import { observeContainer } from "./observation.ts";
import type { ObservationPublisher } from "./publisher.ts";
import type { AgentStateStore, ContainerRecord, TaskRecord } from "./state.ts";

/**
 * Turns a task's containers into observations and keeps the task record in step with what was
 * published: a STOPPED fact is written to the record only after JetStream stored it. Used by the
 * TaskRunner inside its per-task serial queue, so it never races itself on one task.
 */
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

  /** Inspects one container and publishes its state; returns what was published (undefined when gone). */
  async observe(rec: TaskRecord, id: string, name: string): Promise<ContainerObserved | undefined> {
    const cr = containerRecord(rec, name);
    let info: ContainerInfo;
    try {
      info = await this.o.docker.inspectContainer(id, { signal: this.o.signal });
    } catch (err) {
      if (!isDockerError(err, "not-found")) throw err;
      this.oomEvents.delete(id);
      if (!cr.stopped) await this.reportAbsent(rec, name, "Container was removed from the host");
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
      oomEvent: this.oomEvents.has(info.id),
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
