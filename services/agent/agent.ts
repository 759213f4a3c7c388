import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { DEFAULT_TASK_CLEANUP_WAIT_MS, type DeregisteredDirective, labels } from "../../events/agent.ts";
import { buckets } from "../../events/names.ts";
import { consumeDirectives } from "./directives.ts";
import { dockerodePort } from "./docker/dockerode.ts";
import type { DockerPort } from "./docker/port.ts";
import { watchContainerEvents } from "./events-watcher.ts";
import { heartbeatLoop } from "./heartbeat.ts";
import type { ImagePullBehavior } from "./images.ts";
import { serveLogs } from "./logs.ts";
import { ObservationPublisher } from "./publisher.ts";
import { fetchDesired, reconcile } from "./reconcile.ts";
import { register, rejoinAdvice } from "./registration.ts";
import type { RegistryAuthMap } from "./registry-auth.ts";
import { Aborted, retry } from "./retry.ts";
import { natsSecretsFetcher } from "./secrets.ts";
import { AgentStateStore } from "./state.ts";
import { statsLoop } from "./stats.ts";
import type { PauseContainer } from "./task-resources.ts";
import { TaskRunner } from "./task-runner.ts";

/** Options of one agent. The logger may be given as `logger` or, for callers that name it so, `log`. */
export type AgentOptions = AgentBaseOptions & ({ logger: Logger } | { log: Logger });

export interface AgentBaseOptions {
  nc: NatsConnection;
  region: string;
  cluster: string;
  /** Where the agent keeps its instance id and task records (survives restarts). */
  dataDir: string;
  docker?: DockerPort;
  /** Default 5000 ms. */
  heartbeatIntervalMs?: number;
  /** Seconds between SIGTERM and SIGKILL when a definition sets no stopTimeout (ECS_CONTAINER_STOP_TIMEOUT); default 30. */
  stopTimeoutSeconds?: number;
  availabilityZone?: string;
  /** Custom attributes registered with the instance. */
  attributes?: Record<string, string>;
  capacity?: ("EC2" | "FARGATE")[];
  /** Distinguishes several agents on one Docker engine; names the state files. Default "default". */
  name?: string;
  /** Run containers with `privileged: true` (ECS_DISABLE_PRIVILEGED=false). Default false. */
  allowPrivileged?: boolean;
  /** Run tasks in the host network mode (they reach the host's loopback services). Default false. */
  allowHostNetwork?: boolean;
  /** Run tasks with volumes that bind-mount host paths (`host.sourcePath`). Default false. */
  allowHostMounts?: boolean;
  /** Registry host → credentials for pulls (ECS_ENGINE_AUTH_DATA); see registry-auth.ts. */
  registryAuth?: RegistryAuthMap;
  /** ECS_IMAGE_PULL_BEHAVIOR; default "default" (pull, fall back to the cached image). */
  imagePullBehavior?: ImagePullBehavior;
  /** How long a stopped task's containers stay on the host (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION); default 3 h. */
  taskCleanupWaitMs?: number;
  /** How often per-task stats (TaskStatsObserved) are sampled; 0 disables. Default 30000. */
  statsIntervalMs?: number;
  /** Image (and command) of the pause container that holds an awsvpc task's network namespace. */
  pauseContainer?: PauseContainer;
  clock?: () => number;
}

/**
 * What this agent implements beyond the base set, as the attributes ECS's agent advertises for
 * them; task definitions using these features require them (machines/taskdef/rules/attributes.ts).
 */
const EXTRA_CAPABILITIES = [
  "ecs.capability.secrets.asm.environment-variables",
  "ecs.capability.secrets.ssm.environment-variables",
  "ecs.capability.secrets.asm.bootstrap.log-driver",
  "ecs.capability.secrets.ssm.bootstrap.log-driver",
  "ecs.capability.private-registry-authentication.secretsmanager",
  "ecs.capability.container-restart-policy",
  // ECR images: pulled with the credentials the agent has for the registry's host (--registry-auth,
  // or the task's repositoryCredentials), which stand in for the execution role's ECR token.
  "com.amazonaws.ecs.capability.ecr-auth",
  "ecs.capability.execution-role-ecr-pull",
];

export interface Agent {
  instanceId: string;
  containerInstanceArn: string;
  /** Graceful: stops heartbeats, directives and event watching; leaves running tasks running. */
  stop(): Promise<void>;
  /**
   * Settles when the control plane told this agent that its container instance was deregistered:
   * the agent has stopped its tasks' containers and then itself, for good (a restart is refused
   * registration), as ECS's agent exits when its instance is inactive. A process that runs only
   * this agent should exit.
   */
  deregistered: Promise<DeregisteredDirective>;
}

/**
 * The exit status of an agent process whose instance was deregistered: ECS's agent's terminal
 * status, on which its systemd unit does not restart it (RestartPreventExitStatus=5).
 */
export const DEREGISTERED_EXIT_STATUS = 5;

/**
 * How long the runtime check waits for Docker's answer before it counts the engine IMPAIRED: a
 * version call answers in milliseconds on a working engine, and under the default heartbeat
 * interval the check delays a beat by no more than this.
 */
const RUNTIME_CHECK_TIMEOUT_MS = 3_000;

/** The reason an agent gives for the containers it stops because its instance was deregistered. */
export const DEREGISTERED_REASON = "Container instance deregistered";

/**
 * Starts the container agent for one Docker host:
 *
 *   docker info ─► register (retry) ─► watch Docker events ─► sync + reconcile ─► consume directives
 *                                        └──────────── heartbeats (KV) · log requests ───────────┘
 *
 * Resolves once the instance is registered, the event stream is open, reconcile is queued and
 * the directive consumer exists.
 */
export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const name = opts.name ?? "default";
  const clock = opts.clock ?? Date.now;
  const bootAt = clock();
  const controller = new AbortController();
  const { signal } = controller;
  const { nc, region, cluster } = opts;
  const baseLog = ("logger" in opts ? opts.logger : opts.log).child({ component: "agent", agent: name, cluster });
  const docker = opts.docker ?? dockerodePort();
  const store = new AgentStateStore(opts.dataDir, name);
  await store.init();

  const [info, version] = await retry(() => Promise.all([docker.info({ signal }), docker.version({ signal })]), {
    signal,
    onError: (err) => baseLog.warn({ err }, "docker engine unavailable; retrying"),
  });
  const instance = await register(
    nc,
    store,
    region,
    {
      cluster,
      info,
      version,
      availabilityZone: opts.availabilityZone,
      attributes: opts.attributes,
      capacity: opts.capacity,
      allowPrivileged: opts.allowPrivileged,
      extraCapabilities: EXTRA_CAPABILITIES,
    },
    baseLog,
    signal,
  );
  const { instanceId, containerInstanceArn } = instance;
  const log = baseLog.child({ instanceId });
  log.info({ containerInstanceArn, docker: version.version, cpus: info.ncpu }, "registered");

  const js = jetstream(nc);
  const jsm = await retry(() => jetstreamManager(nc), {
    signal,
    onError: (err) => log.warn({ err }, "JetStream unavailable; retrying"),
  });
  const publisher = new ObservationPublisher(js, region, instanceId, log.child({ part: "publisher" }), signal);
  const runner = new TaskRunner({
    docker,
    publisher,
    store,
    log: log.child({ part: "runner" }),
    instanceId,
    cluster,
    stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 30,
    allowPrivileged: opts.allowPrivileged ?? false,
    allowHostNetwork: opts.allowHostNetwork ?? false,
    allowHostMounts: opts.allowHostMounts ?? false,
    imagePullBehavior: opts.imagePullBehavior ?? "default",
    taskCleanupWaitMs: opts.taskCleanupWaitMs ?? DEFAULT_TASK_CLEANUP_WAIT_MS,
    ...(opts.registryAuth ? { registryAuth: opts.registryAuth } : {}),
    secrets: natsSecretsFetcher(nc, region, instanceId),
    ...(opts.pauseContainer ? { pauseContainer: opts.pauseContainer } : {}),
    clock,
    signal,
  });

  const heartbeats = (async () => {
    const hlog = log.child({ part: "heartbeat" });
    const kv = await retry(
      async (): Promise<KV> => {
        const kv = await new Kvm(js).open(buckets.heartbeats);
        await kv.status(); // fails until the control plane has created the bucket
        return kv;
      },
      {
        signal,
        onError: (err, attempt) => hlog.warn({ err, attempt }, "heartbeat bucket not available yet; retrying"),
      },
    );
    await heartbeatLoop(
      kv,
      { region, cluster, instanceId, bootAt, intervalMs: opts.heartbeatIntervalMs ?? 5_000 },
      clock,
      hlog,
      signal,
      // ECS's agent's CONTAINER_RUNTIME check: does the engine answer?
      () =>
        docker.version({ signal, timeoutMs: RUNTIME_CHECK_TIMEOUT_MS }).then(
          () => "OK" as const,
          () => "IMPAIRED" as const,
        ),
    );
  })().catch((err) => {
    if (!(err instanceof Aborted)) log.error({ err }, "heartbeats stopped");
  });

  const managed = [`${labels.managed}=true`, `${labels.instanceId}=${instanceId}`];
  const elog = log.child({ part: "events" });
  const refresh = (id: string, containerLabels: Record<string, string>) =>
    runner.refresh(id, containerLabels).catch((err) => {
      if (!signal.aborted) elog.warn({ err, containerId: id }, "could not observe container");
    });
  const watcher = watchContainerEvents({
    docker,
    labels: managed,
    onEvent: (e) => {
      // Noted as it arrives, before the `die` that follows is observed (see observation.ts).
      if (e.action === "oom") runner.noteOom(e.id);
      void refresh(e.id, e.labels);
    },
    repair: async () => {
      const rows = await docker.listContainers(managed, { signal });
      await Promise.all(rows.map((r) => refresh(r.id, r.labels)));
    },
    log: elog,
    signal,
  });
  await Promise.race([watcher.connected, watcher.done]);

  const rlog = log.child({ part: "reconcile" });
  const desired = await fetchDesired(nc, region, { cluster, instanceId }, rlog, signal);
  const reconciled = await reconcile({ desired, docker, store, runner, instanceId, cluster, log: rlog, signal });

  const statsIntervalMs = opts.statsIntervalMs ?? 30_000;
  const stats =
    statsIntervalMs > 0
      ? statsLoop({
          docker,
          publisher,
          instanceId,
          intervalMs: statsIntervalMs,
          clock,
          log: log.child({ part: "stats" }),
          signal,
        })
      : Promise.resolve();

  const logsSub = serveLogs({ nc, docker, region, instanceId, log: log.child({ part: "logs" }), signal });

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      controller.abort();
      logsSub.unsubscribe();
      await Promise.allSettled([heartbeats, watcher.done, directives, reconciled.done, stats, runner.idle()]);
    })();
    return stopping;
  };
  let settleDeregistered!: (d: DeregisteredDirective) => void;
  const deregistered = new Promise<DeregisteredDirective>((resolve) => {
    settleDeregistered = resolve;
  });
  const onDeregistered = async (d: DeregisteredDirective) => {
    log.error(
      { containerInstanceArn: d.containerInstanceArn },
      `this container instance was deregistered: stopping its tasks and the agent. ${rejoinAdvice(store)}`,
    );
    const left = (await store.listTasks()).filter((r) => !r.removed);
    await Promise.all(
      left.map((r) =>
        runner.stop({ taskArn: r.taskArn, taskId: r.taskId, reason: DEREGISTERED_REASON, containers: Object.keys(r.containers) }),
      ),
    );
    // Once this directive is acknowledged: stopping waits for the directive consumer, this handler's caller.
    setImmediate(() => {
      void shutdown().then(() => {
        log.info({ tasks: left.length }, "agent stopped: its container instance was deregistered");
        settleDeregistered(d);
      });
    });
  };

  let consumerReady!: () => void;
  const ready = new Promise<void>((r) => {
    consumerReady = r;
  });
  const directives = consumeDirectives(
    { js, jsm, region, instanceId, runner, deregistered: onDeregistered, log: log.child({ part: "directives" }), signal },
    consumerReady,
  ).catch((err) => {
    if (!(err instanceof Aborted)) log.error({ err }, "directive consumer stopped");
  });
  await Promise.race([ready, directives]);

  return {
    instanceId,
    containerInstanceArn,
    async stop() {
      const already = stopping !== undefined;
      await shutdown();
      if (!already) log.info("agent stopped; tasks left running");
    },
    deregistered,
  };
}
