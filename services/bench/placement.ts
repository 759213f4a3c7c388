import { subjects } from "../../events/names.ts";
import { type Malloc, mallocOf } from "../cli/allocator.ts";
import { CLUSTER, FAMILY, ownCpuSeconds, REGION, simEnv } from "./env.ts";
import { type Summary, since, summarize } from "./stats.ts";
import { TaskWatch } from "./watch.ts";

/**
 * End-to-end placement: RunTask calls and services place `tasks` tasks on `instances` hollow
 * instances (berth sim), every event durable in JetStream, and the clock stops when the last
 * TaskStarted is in the log. Each run has its own nats-server, control plane and fleet.
 *
 *   driver ──RunTask ×(tasks/2/10), CreateService ×S──► berth server ──directives──► berth sim
 *     ▲                                                     │  ▲                        │
 *     └──── TaskStarted (headers-only ordered consumer) ────┘  └──── observations ──────┘
 */

export interface PlacementParams {
  instances: number;
  tasks: number;
  /** Services that share the service half of the tasks. */
  services: number;
  /** RunTask calls in flight at once. */
  clients: number;
  dir: string;
  /** Directory for a CPU profile of the control plane (node --cpu-prof), when profiling. */
  profileDir?: string;
  /** Extra node options for the control plane. */
  serverNodeArgs?: string[];
  /**
   * How long to wait, at most, after the load for V8's memory reducer to give back what the burst
   * left committed (0: read memory only right after the load).
   */
  settleSeconds: number;
}

export interface PlacementRun {
  tasks: number;
  instances: number;
  /** From the first request to the last task RUNNING. */
  seconds: number;
  tasksPerSecond: number;
  /** Request → RUNNING per task, ms. */
  latency: Summary;
  /** Control plane RSS holding every task, bytes, right after the load. */
  rssBytes: number;
  /** The control plane's V8 heap in use then (its /metrics), bytes. */
  heapUsedBytes: number;
  /** Control plane RSS once settled (see `settle`); undefined when not waited for. */
  settled?: Settled;
  /** The C allocator the control plane ran on (services/cli/allocator.ts). */
  malloc: Malloc;
  registerSeconds: number;
  failures: number;
  /** CPU seconds each process used during the load. */
  cpu: { server: number; sim: number; nats: number; driver: number };
}

const SETTLE_MS = 3_000;

/** A gauge from the control plane's Prometheus endpoint (NaN when it cannot be read). */
async function gauge(endpoint: string, pattern: RegExp): Promise<number> {
  try {
    const m = pattern.exec(await (await fetch(`${endpoint}/metrics`)).text());
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** nodejs_heap_size_used_bytes from the control plane's Prometheus endpoint. */
export const heapUsed = (endpoint: string) => gauge(endpoint, /^nodejs_heap_size_used_bytes\s+([0-9.e+]+)/m);

const youngGeneration = (endpoint: string) =>
  gauge(endpoint, /^nodejs_heap_space_size_total_bytes\{space="new"\}\s+([0-9.e+]+)/m);

export interface Settled {
  rssBytes: number;
  heapUsedBytes: number;
  /** Seconds after the load until the reading. */
  afterSeconds: number;
  /** Whether V8's memory reducer ran (the young generation shrank) before the wait ran out. */
  reduced: boolean;
}

const SETTLE_POLL_MS = 2_000;
/** After the young generation shrinks, the sweep that discards freed old-space pages finishes concurrently. */
const SETTLE_AFTER_REDUCTION_MS = 6_000;

/**
 * The control plane's memory once it holds the tasks and the burst is over (heartbeats go on).
 * V8 keeps what a burst made it commit — a grown young generation, old space up to four times
 * what is live — until its memory reducer runs a memory-reducing collection: when the process
 * allocates little, or at the latest about 100 s after the last full collection. Polls until the
 * young generation has shrunk (the reducer's mark) and the sweep after it is done, or until
 * `maxSeconds`.
 */
async function settle(endpoint: string, rss: () => number, youngAtLoad: number, maxSeconds: number): Promise<Settled> {
  const t0 = performance.now();
  let reduced = false;
  while (since(t0) < maxSeconds * 1000) {
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    if ((await youngGeneration(endpoint)) < youngAtLoad / 2) {
      reduced = true;
      await new Promise((r) => setTimeout(r, SETTLE_AFTER_REDUCTION_MS));
      break;
    }
  }
  return { rssBytes: rss(), heapUsedBytes: await heapUsed(endpoint), afterSeconds: (SETTLE_MS + since(t0)) / 1000, reduced };
}

/** ECS's limit on tasks per RunTask call. */
const RUN_TASK_COUNT = 10;

export async function placementRun(p: PlacementParams): Promise<PlacementRun> {
  const env = await simEnv({ dir: p.dir, instances: p.instances, sockets: p.clients + 8, name: "placement", ...(p.profileDir ? { profileDir: p.profileDir } : {}), ...(p.serverNodeArgs ? { serverNodeArgs: p.serverNodeArgs } : {}) });
  const { api, server, sim, nats } = env;
  try {
    const watch = await TaskWatch.start(env.nc, subjects.tasksOfCluster(REGION, CLUSTER));
    const requested = new Map<string, number>();
    const runTasks = Math.floor(p.tasks / 2 / RUN_TASK_COUNT) * RUN_TASK_COUNT;
    const perService = Math.floor((p.tasks - runTasks) / p.services);
    const total = runTasks + perService * p.services;
    let failures = 0;

    const cpu0 = { server: server.cpuSeconds(), sim: sim.cpuSeconds(), nats: nats.proc.cpuSeconds(), driver: ownCpuSeconds() };
    const t0 = performance.now();
    const services = Array.from({ length: p.services }, (_, i) =>
      api.call("CreateService", { cluster: CLUSTER, serviceName: `svc-${i}`, taskDefinition: FAMILY, desiredCount: perService }),
    );
    let issued = 0;
    const clients = Array.from({ length: p.clients }, async () => {
      while (issued < runTasks) {
        issued += RUN_TASK_COUNT;
        const at = performance.now();
        const r = await api.call<{ tasks: { taskArn: string }[]; failures: unknown[] }>("RunTask", {
          cluster: CLUSTER,
          taskDefinition: FAMILY,
          count: RUN_TASK_COUNT,
        });
        failures += r.failures.length;
        for (const t of r.tasks) requested.set(t.taskArn.slice(t.taskArn.lastIndexOf("/") + 1), at);
      }
    });
    await Promise.all([...services, ...clients]);
    await watch.until(() => watch.started.size >= total - failures, 30 * 60_000, `${total} tasks RUNNING`);
    const seconds = since(t0) / 1000;
    // A service task's request is its CreateService call (one request for many tasks).
    const latencies = [...watch.started].map(([id, at]) => at - (requested.get(id) ?? t0));
    const cpu = {
      server: server.cpuSeconds() - cpu0.server,
      sim: sim.cpuSeconds() - cpu0.sim,
      nats: nats.proc.cpuSeconds() - cpu0.nats,
      driver: ownCpuSeconds() - cpu0.driver,
    };
    await watch.stop();
    // Memory is read once the load is over (heartbeats go on), as the control plane holds the tasks.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rssBytes = server.rss();
    const heapUsedBytes = await heapUsed(env.endpoint);
    const settled =
      p.settleSeconds > 0
        ? await settle(env.endpoint, () => server.rss(), await youngGeneration(env.endpoint), p.settleSeconds)
        : undefined;
    return {
      tasks: total,
      instances: p.instances,
      seconds,
      tasksPerSecond: total / seconds,
      latency: summarize(latencies),
      rssBytes,
      heapUsedBytes,
      ...(settled ? { settled } : {}),
      malloc: mallocOf(server.pid as number),
      registerSeconds: env.registerSeconds,
      failures,
      cpu,
    };
  } finally {
    await env.stop();
  }
}
