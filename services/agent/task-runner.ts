import type { Logger } from "pino";
import { containerName, labels, taskSecretRefs } from "../../events/agent.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import type { ContainerDefinition } from "../../events/taskdef.shapes.ts";
import { ContainerConfigError, containerConfig, hostAccessRefusal } from "./container-config.ts";
import { ContainerReporter, containerRecord } from "./container-reporter.ts";
import { conditionState, startOrder, stopOrder } from "./dependencies.ts";
import { type ContainerInfo, type ContainerSummary, type DockerPort, isDockerError } from "./docker/port.ts";
import { ensureImage, type ImagePullBehavior } from "./images.ts";
import type { ObservationPublisher } from "./publisher.ts";
import { pullCredentials, RegistryAuthError, type RegistryAuthMap, repositoryCredentials } from "./registry-auth.ts";
import { shouldRestart } from "./restart-policy.ts";
import { Aborted, KeyedSerial, sleep } from "./retry.ts";
import { SECRETS_REASON, type SecretsFetcher, SecretsUnavailable, type TaskSecrets } from "./secrets.ts";
import type { AgentStateStore, TaskRecord } from "./state.ts";
import { type PauseContainer, type TaskAttachment, type TaskResources, taskResources } from "./task-resources.ts";

export interface TaskRunnerOptions {
  docker: DockerPort;
  publisher: ObservationPublisher;
  store: AgentStateStore;
  log: Logger;
  instanceId: string;
  cluster: string;
  stopTimeoutSeconds: number;
  allowPrivileged: boolean;
  /** Tasks in the host network mode (`--allow-host-network`). */
  allowHostNetwork: boolean;
  /** Volumes bind-mounting host paths (`--allow-host-mounts`). */
  allowHostMounts: boolean;
  imagePullBehavior: ImagePullBehavior;
  /** The agent's registry credentials (registry-auth.ts). */
  registryAuth?: RegistryAuthMap;
  /** Where a task's secret values come from (secrets.ts); without it a task with secrets cannot start. */
  secrets?: SecretsFetcher;
  /** Image (and command) of the awsvpc pause container. */
  pauseContainer?: PauseContainer;
  clock: () => number;
  signal: AbortSignal;
  /**
   * How long a stopped task's containers stay before they are removed, so that their output can
   * still be read (`berth logs`) and inspected: ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION in ECS's agent.
   */
  taskCleanupWaitMs: number;
}

export interface StopRequest {
  taskArn: string;
  taskId: string;
  reason: string;
  containers?: string[];
}

const LIVE_STATES = new Set(["running", "paused", "restarting"]);
/** setTimeout's longest delay (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a dependent waits for its dependency's condition when the dependency sets no startTimeout (ECS_CONTAINER_START_TIMEOUT, 3 min on Linux). */
const DEFAULT_START_TIMEOUT_SECONDS = 180;
const DEPENDENCY_POLL_MS = 250;

/**
 * Executes tasks on Docker. The only writer of a task's containers: every operation on one task
 * (StartTask, StopTask, a Docker event, cleanup) runs through `serial`, one at a time, in order.
 *
 * Idempotent by construction: containers are found by their deterministic name and labels, and
 * the task record (state.ts) remembers which containers were ever started, so a repeated StartTask
 * never creates a duplicate and never restarts a container that ran (ECS never restarts them).
 *
 * Life of a task on this host:
 *
 *   StartTask ─► pull? ─► create ─► start ─► RUNNING ─► (exit | StopTask ─► docker stop) ─► STOPPED
 *                                                         every container STOPPED & acked ─► remove
 */
export class TaskRunner {
  private readonly serial = new KeyedSerial();
  private readonly records = new Map<string, TaskRecord>();
  private readonly resources: TaskResources;
  /** Aborts a start that is waiting on dependencies when a stop for the same task arrives. */
  private readonly startAborts = new Map<string, AbortController>();
  /** Stopped tasks whose containers wait out the cleanup wait. */
  private readonly cleanups = new Map<string, NodeJS.Timeout>();

  private readonly report: ContainerReporter;

  constructor(private readonly o: TaskRunnerOptions) {
    this.report = new ContainerReporter(o);
    this.resources = taskResources(
      o.docker,
      { instanceId: o.instanceId, cluster: o.cluster, ...(o.pauseContainer ? { pause: o.pauseContainer } : {}) },
      o.signal,
    );
    o.signal.addEventListener("abort", () => {
      for (const t of this.cleanups.values()) clearTimeout(t);
      this.cleanups.clear();
    });
  }

  start(spec: TaskRuntimeSpec): Promise<void> {
    return this.serial.run(spec.taskArn, () => this.doStart(spec));
  }

  stop(req: StopRequest): Promise<void> {
    this.startAborts.get(req.taskArn)?.abort();
    return this.serial.run(req.taskArn, () => this.doStop(req));
  }

  /** Docker's `oom` event for a container: its next STOPPED observation may be an OOM kill. */
  noteOom(containerId: string): void {
    this.report.noteOom(containerId);
  }

  /** A Docker event named one of our containers: re-read it and publish what it is now. */
  refresh(containerId: string, containerLabels: Record<string, string>): Promise<void> {
    const taskArn = containerLabels[labels.taskArn];
    const taskId = containerLabels[labels.taskId];
    const name = containerLabels[labels.containerName];
    if (!taskArn || !taskId || !name) return Promise.resolve();
    return this.serial.run(taskArn, async () => {
      const rec = await this.record(taskArn, taskId);
      if (rec.removed) {
        // Our own cleanup emits destroy events; only a late `oom` event still has something to say.
        await this.report.reportLateOom(rec, containerId, name);
        return;
      }
      await this.observe(rec, containerId, name);
      await this.maybeCleanup(rec);
    });
  }

  idle(): Promise<void> {
    return this.serial.idle();
  }

  // ── start ──────────────────────────────────────────────────────────────────────────────────

  private async doStart(spec: TaskRuntimeSpec): Promise<void> {
    const log = this.o.log.child({ taskArn: spec.taskArn });
    const rec = await this.record(spec.taskArn, spec.taskId);
    if (!rec.spec) {
      rec.spec = spec;
      await this.report.save(rec);
    }
    if (rec.stopRequested || rec.removed) {
      log.info(
        { stopRequested: rec.stopRequested, removed: rec.removed },
        "start of a stopped task: reporting, not starting",
      );
      for (const def of spec.containers) await this.report.reportAbsent(rec, def.name);
      return;
    }
    const existing = await this.containersOf(spec.taskArn);
    const toCreate = spec.containers.filter(
      (d) => !existing.has(d.name) && !rec.containers[d.name]?.started && !rec.containers[d.name]?.stopped,
    );
    // A stop that arrives while the start is under way (it waits its turn behind it) abandons
    // what is not started yet: no container of a task asked to stop is started.
    const abort = new AbortController();
    this.startAborts.set(spec.taskArn, abort);
    const abandoned = (container: string) => {
      if (!abort.signal.aborted) return false;
      log.info({ container }, "start abandoned: the task is being stopped");
      return true;
    };
    try {
      const secrets = await this.admit(rec, spec, toCreate, log);
      if (!secrets) return this.maybeCleanup(rec);
      if (!(await this.prepareResources(rec, spec, log))) return;
      for (const def of startOrder(spec.containers)) {
        if (abandoned(def.name)) return;
        const row = existing.get(def.name);
        const fresh = !row && !rec.containers[def.name]?.started && !rec.containers[def.name]?.stopped;
        if (fresh && def.dependsOn?.length) {
          const unmet = await this.waitForDependencies(rec, spec, def, abort.signal);
          if (unmet === "aborted" && abandoned(def.name)) return;
          if (unmet) {
            log.warn({ container: def.name, reason: unmet }, "dependency condition not met; container not started");
            await this.report.reportFailure(rec, def.name, unmet);
            continue;
          }
        }
        await this.startContainer(rec, spec, def, row, secrets, log, () => abandoned(def.name));
      }
    } finally {
      if (this.startAborts.get(spec.taskArn) === abort) this.startAborts.delete(spec.taskArn);
    }
    await this.maybeCleanup(rec);
  }

  /**
   * Whether the containers still to be created may be: the host access the agent allows, then the
   * task's secrets (fetched once per start, kept in memory only). Undefined when they may not —
   * each of them is then reported STOPPED with the reason.
   */
  private async admit(
    rec: TaskRecord,
    spec: TaskRuntimeSpec,
    toCreate: ContainerDefinition[],
    log: Logger,
  ): Promise<TaskSecrets | undefined> {
    if (toCreate.length === 0) return new Map();
    const refuse = async (reason: string) => {
      for (const def of toCreate) await this.report.reportFailure(rec, def.name, reason);
      return undefined;
    };
    const refusal = hostAccessRefusal(spec, {
      privileged: this.o.allowPrivileged,
      hostNetwork: this.o.allowHostNetwork,
      hostMounts: this.o.allowHostMounts,
    });
    if (refusal) {
      log.warn({ reason: refusal }, "task refused by this agent's host access settings");
      return refuse(refusal);
    }
    if (taskSecretRefs(spec).length === 0) return new Map();
    if (!this.o.secrets) return refuse(`${SECRETS_REASON}: this agent has no secret store`);
    try {
      return await this.o.secrets(spec, this.o.signal);
    } catch (err) {
      if (!(err instanceof SecretsUnavailable)) throw err; // no answer: the directive is retried
      log.warn({ reason: err.reason }, "task secrets unavailable");
      return refuse(err.reason);
    }
  }

  /** Task volumes and the awsvpc network; false when they cannot be made (every container reported). */
  private async prepareResources(rec: TaskRecord, spec: TaskRuntimeSpec, log: Logger): Promise<boolean> {
    let attachment: TaskAttachment | undefined;
    try {
      attachment = await this.resources.prepare(spec);
    } catch (err) {
      if (isDockerError(err, "retriable") || !(err instanceof ContainerConfigError || isDockerError(err))) throw err;
      log.warn({ err: err.message }, "task resources could not be created");
      for (const def of spec.containers) {
        if (!rec.containers[def.name]?.stopped)
          await this.report.reportFailure(rec, def.name, `ResourceInitializationError: ${err.message}`);
      }
      return false;
    }
    if (attachment) {
      rec.attachment = attachment;
      await this.report.save(rec);
      await this.o.publisher.publish({
        type: "TaskAttachmentObserved",
        at: this.o.clock(),
        instanceId: this.o.instanceId,
        taskArn: rec.taskArn,
        status: "ATTACHED",
        ...attachment,
      });
    }
    return true;
  }

  /**
   * Waits until every dependency of `def` meets its condition, publishing the dependencies'
   * progress (start, health, exit) as it sees it. Returns undefined when all are met, a reason
   * when one never will be (or timed out), "aborted" when the task is being stopped.
   */
  private async waitForDependencies(
    rec: TaskRecord,
    spec: TaskRuntimeSpec,
    def: ContainerDefinition,
    signal: AbortSignal,
  ): Promise<string | "aborted" | undefined> {
    for (const dep of def.dependsOn ?? []) {
      const depDef = spec.containers.find((c) => c.name === dep.containerName);
      const timeoutMs = (depDef?.startTimeout ?? DEFAULT_START_TIMEOUT_SECONDS) * 1000;
      const deadline = Date.now() + timeoutMs;
      let seen = "";
      for (;;) {
        let info: ContainerInfo | undefined;
        try {
          info = await this.o.docker.inspectContainer(containerName(spec.taskId, dep.containerName), {
            signal: this.o.signal,
          });
        } catch (err) {
          if (!isDockerError(err, "not-found")) throw err;
        }
        if (info) {
          const now = `${info.state.status}:${info.state.health ?? ""}`;
          if (now !== seen) {
            seen = now;
            await this.observe(rec, info.id, dep.containerName);
          }
        }
        const state =
          !info && rec.containers[dep.containerName]?.stopped ? "never" : conditionState(dep.condition, info);
        if (state === "met") break;
        const why = `DependencyConditionNotMet: container ${dep.containerName} did not reach ${dep.condition}`;
        if (state === "never") return why;
        if (Date.now() >= deadline) return `${why} within ${timeoutMs / 1000} s`;
        try {
          await sleep(DEPENDENCY_POLL_MS, AbortSignal.any([signal, this.o.signal]));
        } catch (err) {
          if (err instanceof Aborted) return "aborted";
          throw err;
        }
      }
    }
    return undefined;
  }

  private async startContainer(
    rec: TaskRecord,
    spec: TaskRuntimeSpec,
    def: ContainerDefinition,
    existing: ContainerSummary | undefined,
    secrets: TaskSecrets,
    log: Logger,
    /** Whether a stop came while the image was pulled: then the container is not created. */
    abandoned: () => boolean,
  ): Promise<void> {
    const cr = containerRecord(rec, def.name);
    if (existing) {
      const info = await this.o.docker.inspectContainer(existing.id, { signal: this.o.signal });
      // Created but never started (the agent died between create and start): start it now.
      if (info.state.status === "created" && !info.state.error && !cr.started && !cr.stopped) {
        await this.startCreated(rec, def.name, info.id, log);
      }
      await this.observe(rec, info.id, def.name);
      return;
    }
    if (cr.started || cr.stopped) {
      // It ran before and is gone now: report it; ECS never restarts a task's container.
      await this.report.reportAbsent(rec, def.name, "Container no longer exists on the host");
      return;
    }
    let auth: ReturnType<typeof pullCredentials>;
    try {
      const param = def.repositoryCredentials?.credentialsParameter;
      const fromTask = param === undefined ? undefined : repositoryCredentials(secrets.get(param) ?? "", param);
      auth = pullCredentials(def.image, this.o.registryAuth ?? new Map(), fromTask);
    } catch (err) {
      if (!(err instanceof RegistryAuthError)) throw err;
      await this.report.reportFailure(rec, def.name, `${SECRETS_REASON}: ${err.message}`);
      return;
    }
    const pull = await ensureImage(
      this.o.docker,
      def.image,
      this.o.imagePullBehavior,
      this.o.clock,
      log,
      this.o.signal,
      auth,
    );
    cr.pullStartedAt = pull.pullStartedAt;
    cr.pullStoppedAt = pull.pullStoppedAt;
    if (pull.error) {
      log.warn({ container: def.name, reason: pull.error }, "image unavailable");
      await this.report.reportFailure(rec, def.name, pull.error);
      return;
    }
    if (abandoned()) return;
    let id: string;
    try {
      const req = containerConfig(def, spec, {
        instanceId: this.o.instanceId,
        cluster: this.o.cluster,
        stopTimeoutSeconds: this.o.stopTimeoutSeconds,
        allowPrivileged: this.o.allowPrivileged,
        secrets,
        ...this.resources.containerOverrides(spec),
      });
      id = (await this.o.docker.createContainer(req, { signal: this.o.signal })).id;
    } catch (err) {
      if (isDockerError(err, "retriable")) throw err;
      const text = err instanceof ContainerConfigError || isDockerError(err) ? err.message : String(err);
      log.warn({ container: def.name, err: text }, "container create failed");
      await this.report.reportFailure(rec, def.name, `CannotCreateContainerError: ${text}`);
      return;
    }
    cr.runtimeId = id;
    await this.report.save(rec);
    await this.report.observe(rec, id, def.name); // PENDING, with the pull times
    await this.startCreated(rec, def.name, id, log);
    await this.observe(rec, id, def.name);
  }

  // ── restart policy ─────────────────────────────────────────────────────────────────────────

  /** Observes a container, restarting it in place first when its restartPolicy says so. */
  private async observe(rec: TaskRecord, id: string, name: string) {
    await this.maybeRestart(rec, id, name);
    return this.report.observe(rec, id, name);
  }

  private async maybeRestart(rec: TaskRecord, id: string, name: string): Promise<void> {
    const def = rec.spec?.containers.find((d) => d.name === name);
    const cr = containerRecord(rec, name);
    if (!def?.restartPolicy?.enabled || cr.stopped) return;
    let info: ContainerInfo;
    try {
      info = await this.o.docker.inspectContainer(id, { signal: this.o.signal });
    } catch (err) {
      if (isDockerError(err, "not-found")) return;
      throw err;
    }
    if (info.state.status !== "exited") return;
    const now = this.o.clock();
    const log = this.o.log.child({ taskArn: rec.taskArn, container: name, exitCode: info.state.exitCode });
    const verdict = shouldRestart({
      policy: def.restartPolicy,
      exitCode: info.state.exitCode,
      startedAt: info.state.startedAt,
      lastRestartAt: cr.lastRestartAt,
      stopRequested: rec.stopRequested ?? false,
      now,
    });
    if (!verdict.restart) {
      log.info({ why: verdict.why }, "container exited; not restarting it");
      return;
    }
    try {
      await this.o.docker.startContainer(id, { signal: this.o.signal });
    } catch (err) {
      if (isDockerError(err, "retriable")) throw err;
      log.warn({ err: (err as Error).message }, "restart failed; reporting the exit");
      return;
    }
    cr.restartCount = (cr.restartCount ?? 0) + 1;
    cr.lastRestartAt = now;
    await this.report.save(rec);
    log.info({ restartCount: cr.restartCount }, "container restarted in place (restartPolicy)");
  }

  private async startCreated(rec: TaskRecord, name: string, id: string, log: Logger): Promise<void> {
    const cr = containerRecord(rec, name);
    try {
      await this.o.docker.startContainer(id, { signal: this.o.signal });
      cr.started = true;
      await this.report.save(rec);
    } catch (err) {
      if (isDockerError(err, "retriable")) throw err;
      const text = err instanceof Error ? err.message : String(err);
      log.warn({ container: name, err: text }, "container start failed");
      await this.report.reportFailure(rec, name, `CannotStartContainerError: ${text}`, id);
    }
  }

  // ── stop ───────────────────────────────────────────────────────────────────────────────────

  private async doStop(req: StopRequest): Promise<void> {
    const log = this.o.log.child({ taskArn: req.taskArn });
    const rec = await this.record(req.taskArn, req.taskId);
    // Stopped, every fact of it stored, its containers kept for the cleanup wait (a restarted
    // agent's reconcile hands it such tasks): nothing to stop or report, only its cleanup to keep.
    if (rec.stoppedAt !== undefined) return this.maybeCleanup(rec);
    if (!rec.stopRequested) {
      rec.stopRequested = true;
      await this.report.save(rec);
    }
    await this.o.publisher.publish({
      type: "TaskStoppingObserved",
      at: this.o.clock(),
      instanceId: this.o.instanceId,
      taskArn: req.taskArn,
    });
    const existing = await this.containersOf(req.taskArn);
    const defs = rec.spec?.containers ?? [];
    // Reverse start (dependency) order; names only the directive or Docker knows go first.
    const order = stopOrder(defs).map((d) => d.name);
    for (const n of [...(req.containers ?? []), ...existing.keys()]) if (!order.includes(n)) order.unshift(n);
    log.info({ reason: req.reason, containers: order }, "stopping task");
    for (const name of order) {
      const c = existing.get(name);
      if (!c) {
        await this.report.reportAbsent(rec, name);
        continue;
      }
      if (LIVE_STATES.has(c.state)) {
        const timeout = defs.find((d) => d.name === name)?.stopTimeout ?? this.o.stopTimeoutSeconds;
        await this.o.docker.stopContainer(c.id, timeout, { signal: this.o.signal });
      }
      const obs = await this.report.observe(rec, c.id, name);
      // Never started: Docker leaves it "created"; for ECS it is STOPPED now.
      if (obs && obs.status !== "STOPPED") {
        await this.report.publishStopped(rec, name, { runtimeId: c.id, reason: req.reason });
      }
    }
    await this.maybeCleanup(rec);
  }

  // ── cleanup ────────────────────────────────────────────────────────────────────────────────

  /**
   * Once every container of the task is STOPPED and that fact is stored in JetStream, the task
   * lets go of its network at once (the awsvpc attachment is DETACHED), and its containers stay
   * for the cleanup wait, their output readable, as ECS's agent keeps them; then they are removed
   * with the task-scoped volumes. The time the task stopped is in its record, so a restarted
   * agent keeps to the same deadline (reconcile hands it every task still on the host).
   */
  private async maybeCleanup(rec: TaskRecord): Promise<void> {
    if (rec.removed) return;
    const existing = await this.containersOf(rec.taskArn);
    const names = new Set([...(rec.spec?.containers.map((d) => d.name) ?? []), ...existing.keys()]);
    for (const n of names) if (!rec.containers[n]?.stopped) return;
    for (const c of existing.values()) if (LIVE_STATES.has(c.state)) return;
    const now = this.o.clock();
    if (rec.stoppedAt === undefined) {
      if (rec.spec) await this.resources.releaseNetwork(rec.spec);
      if (rec.attachment) {
        await this.o.publisher.publish({
          type: "TaskAttachmentObserved",
          at: now,
          instanceId: this.o.instanceId,
          taskArn: rec.taskArn,
          status: "DETACHED",
          ...rec.attachment,
        });
      }
      rec.stoppedAt = now;
      await this.report.save(rec);
    }
    const due = rec.stoppedAt + this.o.taskCleanupWaitMs;
    if (due > now) {
      this.cleanupLater(rec, due - now);
      return;
    }
    for (const c of existing.values())
      await this.o.docker.removeContainer(c.id, { force: true, signal: this.o.signal });
    if (rec.spec) await this.resources.releaseVolumes(rec.spec);
    rec.removed = true;
    await this.report.save(rec);
    // The record stays on disk (a redelivered StartTask must still find it); memory holds live tasks only.
    this.records.delete(rec.taskArn);
    this.o.log.info({ taskArn: rec.taskArn, containers: existing.size }, "task cleaned up");
  }

  /** Looks at the task again when its cleanup wait is over (timers are capped: it looks again then). */
  private cleanupLater(rec: TaskRecord, ms: number): void {
    if (this.cleanups.has(rec.taskArn) || this.o.signal.aborted) return;
    const { taskArn, taskId } = rec;
    const timer = setTimeout(() => {
      this.cleanups.delete(taskArn);
      this.serial
        .run(taskArn, async () => this.maybeCleanup(await this.record(taskArn, taskId)))
        .catch((err) => {
          if (!this.o.signal.aborted) this.o.log.warn({ err, taskArn }, "cleanup of a stopped task failed; the agent's next start retries it");
        });
    }, Math.min(ms, MAX_TIMER_MS));
    timer.unref();
    this.cleanups.set(taskArn, timer);
  }

  // ── records and lookups ────────────────────────────────────────────────────────────────────

  private async record(taskArn: string, taskId: string): Promise<TaskRecord> {
    let rec = this.records.get(taskArn);
    if (!rec) {
      rec = (await this.o.store.loadTask(taskId)) ?? { taskArn, taskId, containers: {}, updatedAt: this.o.clock() };
      this.records.set(taskArn, rec);
    }
    return rec;
  }

  /** Forget a task entirely (the control plane no longer lists it and nothing of it is left). */
  async forget(taskArn: string, taskId: string): Promise<void> {
    await this.serial.run(taskArn, async () => {
      this.records.delete(taskArn);
      await this.o.store.deleteTask(taskId);
    });
  }

  /** This agent's containers of one task, by container name. */
  async containersOf(taskArn: string): Promise<Map<string, ContainerSummary>> {
    const rows = await this.o.docker.listContainers(
      [`${labels.instanceId}=${this.o.instanceId}`, `${labels.taskArn}=${taskArn}`],
      { signal: this.o.signal },
    );
    const out = new Map<string, ContainerSummary>();
    for (const r of rows) {
      const name = r.labels[labels.containerName];
      if (name) out.set(name, r);
    }
    return out;
  }
}
