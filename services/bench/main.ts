import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type ApiRun, apiRun } from "./api.ts";
import * as dk from "./docker.ts";
import { type PlacementRun, placementRun, type Settled } from "./placement.ts";
import { natsVersion } from "./processes.ts";
import { type ReplayResult, replayRun } from "./replay.ts";
import { fmt, machine, markdown, type Row, textTable } from "./report.ts";
import { median, percentile, repeat, since } from "./stats.ts";

/**
 * `berth bench`: every benchmark, a table of figures against their targets, and the report in
 * bench/REPORT.md. `quick` runs the same benchmarks at smaller sizes and fewer runs (under three
 * minutes); the full run uses the sizes the targets are stated for (under twenty).
 */

export const BENCHMARKS = ["placement", "replay", "api", "docker"] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

export interface BenchOptions {
  quick: boolean;
  only: readonly Benchmark[];
  out: string;
  /** Keep process logs here (default: a temporary directory, removed at the end). */
  logDir?: string;
  /** CPU profiles of the control plane go here (placement and API benchmarks). */
  profileDir?: string;
  progress: (line: string) => void;
}

interface Sizes {
  placement: { instances: number; tasks: number; services: number; clients: number; runs: number; settleSeconds: number };
  replay: { events: number; runs: number };
  api: { instances: number; tasks: number; clients: number; seconds: number; runs: number; runTaskCalls: number };
  docker: { samples: number; replacements: number; scale: number; scaleRuns: number };
}

const FULL: Sizes = {
  placement: { instances: 10_000, tasks: 100_000, services: 10, clients: 16, runs: 3, settleSeconds: 150 },
  replay: { events: 1_000_000, runs: 3 },
  api: { instances: 1_000, tasks: 10_000, clients: 32, seconds: 5, runs: 3, runTaskCalls: 500 },
  docker: { samples: 15, replacements: 10, scale: 50, scaleRuns: 5 },
};

const QUICK: Sizes = {
  placement: { instances: 1_000, tasks: 10_000, services: 4, clients: 16, runs: 2, settleSeconds: 0 },
  replay: { events: 100_000, runs: 2 },
  api: { instances: 200, tasks: 1_000, clients: 32, seconds: 2, runs: 2, runTaskCalls: 200 },
  docker: { samples: 5, replacements: 3, scale: 20, scaleRuns: 1 },
};

export async function runBench(o: BenchOptions): Promise<{ rows: Row[]; markdown: string }> {
  const started = performance.now();
  const sizes = o.quick ? QUICK : FULL;
  const dockerVersion = o.only.includes("docker") ? await dk.dockerAvailable() : undefined;
  if (dockerVersion && !(await dk.imagePresent()))
    throw new Error(`the Docker benchmarks run the local image ${dk.IMAGE}, which this engine lacks: build it with \`bash scripts/setup.sh bench\` (npm run bench does), or leave them out with --only placement,replay,api`);
  const m = machine(natsVersion(), dockerVersion);
  const dir = o.logDir ?? mkdtempSync(join(tmpdir(), "berth-bench-"));
  mkdirSync(dir, { recursive: true });
  const rows: Row[] = [];
  const sizeNotes: string[] = [];
  const notes: string[] = [];
  const say = (s: string) => o.progress(`[${fmt.s(since(started) / 1000)}] ${s}`);
  try {
    if (o.only.includes("placement")) {
      const p = sizes.placement;
      say(`placement: ${p.tasks.toLocaleString("en-US")} tasks on ${p.instances.toLocaleString("en-US")} simulated instances, ${p.runs} runs`);
      const runs = await repeat(p.runs, async (i) => {
        const r = await placementRun({ ...p, dir: join(dir, `placement-${i}`), ...(o.profileDir ? { profileDir: o.profileDir } : {}) });
        const settled = r.settled ? `; settled ${fmt.mb(r.settled.rssBytes)} after ${fmt.s(r.settled.afterSeconds)}` : "";
        say(`  run ${i + 1}: ${fmt.n(r.tasksPerSecond)} tasks/s, p99 ${fmt.s(r.latency.p99 / 1000)}, RSS ${fmt.mb(r.rssBytes)}${settled}`);
        return r;
      });
      rows.push(...placementRows(runs));
      sizeNotes.push(
        `placement: ${p.tasks.toLocaleString("en-US")} tasks (half RunTask, 10 per call from ${p.clients} clients; half in ${p.services} services) on ${p.instances.toLocaleString("en-US")} hollow instances (berth sim, 2048 CPU / 8192 MiB, 3 AZs); ${p.runs} runs, each with its own nats-server, control plane and fleet`,
      );
    }
    if (o.only.includes("replay")) {
      const p = sizes.replay;
      say(`replay: ${p.events.toLocaleString("en-US")} events, ${p.runs} runs`);
      const r = await replayRun({ dir: join(dir, "replay"), events: p.events, runs: p.runs });
      rows.push(...replayRows(r));
      sizeNotes.push(
        `replay: a log of ${r.events.toLocaleString("en-US")} events made of recorded real task lifecycles (${r.tasks.toLocaleString("en-US")} tasks); fold and restart measured in-process (Node start and module loading excluded); ${p.runs} runs`,
      );
    }
    if (o.only.includes("api")) {
      const p = sizes.api;
      say(`api: ${p.clients} clients on ${p.tasks.toLocaleString("en-US")} tasks, ${p.runs} runs`);
      const runs = await repeat(p.runs, (i) =>
        apiRun({
          dir: join(dir, `api-${i}`),
          instances: p.instances,
          tasks: p.tasks,
          clients: p.clients,
          seconds: p.seconds,
          runTaskCalls: p.runTaskCalls,
          runTaskClients: 4,
          ...(o.profileDir ? { profileDir: o.profileDir } : {}),
        }),
      );
      rows.push(...apiRows(runs, p.clients));
      sizeNotes.push(
        `api: a control plane holding ${p.tasks.toLocaleString("en-US")} RUNNING tasks on ${p.instances} hollow instances; ${p.clients} keep-alive clients for ${p.seconds} s per call type (responses counted, not decoded); RunTask (count 1) ${p.runTaskCalls} calls from 4 clients; ${p.runs} runs`,
      );
    }
    if (o.only.includes("docker")) {
      if (!dockerVersion) {
        notes.push("Docker benchmarks skipped: no Docker engine answered.");
      } else {
        rows.push(...(await dockerBenchmarks(sizes.docker, join(dir, "docker"), say, notes)));
        const d = sizes.docker;
        sizeNotes.push(
          `docker: RunTask ${d.samples} samples, replacement ${d.replacements} kills each for Berth and Swarm, scale-out 0→${d.scale} ${d.scaleRuns} time(s) each; one real \`berth agent\` (image pull behaviour prefer-cached: the image is local) on the engine above; image berth-test/busybox:latest running \`sleep 3600\``,
        );
      }
    }
  } finally {
    if (!o.logDir) rmSync(dir, { recursive: true, force: true });
  }
  m.loadAtEnd = loadavg().map((x) => x.toFixed(2)).join(" ");
  const text = markdown({ mode: o.quick ? "quick" : "full", machine: m, rows, sizes: sizeNotes, notes: [...notes, ...NOTES], seconds: since(started) / 1000 });
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, text);
  o.progress(`\n${textTable(rows)}\n\nreport written to ${o.out}`);
  return { rows, markdown: text };
}

const NOTES = [
  "The control plane is one Node.js process (`berth server`); the simulated fleet is another (`berth sim`); the load generator is the benchmark process. Throughput figures are bounded by the two cores all of them, and nats-server, share.",
  "RSS is the control plane's resident memory read from /proc with every task RUNNING: 3 s after the load, and (full runs) once settled — when V8's memory reducer has run a memory-reducing collection, which it does when the process allocates little or at the latest about 100 s after its last full collection (heartbeats from the 10,000 instances go on meanwhile). The memory row's figure is the settled one when every run settled.",
];

const verdict = (ok: boolean): Row["verdict"] => (ok ? "met" : "missed");

function placementRows(runs: PlacementRun[]): Row[] {
  const tps = median(runs.map((r) => r.tasksPerSecond));
  const p50 = median(runs.map((r) => r.latency.p50));
  const p99 = median(runs.map((r) => r.latency.p99));
  const cpu = (k: keyof PlacementRun["cpu"]) => median(runs.map((r) => (r.cpu[k] / r.tasks) * 1000));
  return [
    {
      benchmark: "end-to-end placement",
      metric: "tasks/s, request → RUNNING",
      value: fmt.n(tps),
      target: "≥ 2,000 (aim 3,750)",
      verdict: verdict(tps >= 2_000),
      comparison: `latency p50 ${fmt.s(p50 / 1000)}, p99 ${fmt.s(p99 / 1000)}; CPU per task: server ${fmt.ms(cpu("server"))}, nats ${fmt.ms(cpu("nats"))}, sim ${fmt.ms(cpu("sim"))}, driver ${fmt.ms(cpu("driver"))}`,
    },
    memoryRow(runs),
  ];
}

export function memoryRow(runs: PlacementRun[]): Row {
  const tasks = runs[0]?.tasks ?? 0;
  const atLoad = median(runs.map((r) => r.rssBytes));
  const heapAtLoad = fmt.mb(median(runs.map((r) => r.heapUsedBytes)));
  const settled = runs.every((r) => r.settled?.reduced) ? runs.map((r) => r.settled as Settled) : undefined;
  const quick = tasks < 100_000 ? " (smaller size than the target's: quick run)" : "";
  const malloc = `; C allocator: ${[...new Set(runs.map((r) => r.malloc))].join(", ")}`;
  if (!settled) {
    const waited = runs.some((r) => r.settled) ? "; V8's memory reducer had not run in every run by the end of the wait" : "";
    return {
      benchmark: "memory",
      metric: `control plane RSS holding ${fmt.n(tasks)} tasks, 3 s after the load`,
      value: fmt.mb(atLoad),
      target: "< 300 MB at 100,000 tasks",
      verdict: tasks >= 100_000 ? verdict(atLoad < 300e6) : "—",
      comparison: `V8 heap used ${heapAtLoad}${waited}${malloc}${quick}`,
    };
  }
  const rss = median(settled.map((s) => s.rssBytes));
  return {
    benchmark: "memory",
    metric: `control plane RSS holding ${fmt.n(tasks)} tasks, settled`,
    value: fmt.mb(rss),
    target: "< 300 MB at 100,000 tasks",
    verdict: tasks >= 100_000 ? verdict(rss < 300e6) : "—",
    comparison: `V8 heap used ${fmt.mb(median(settled.map((s) => s.heapUsedBytes)))}, settled ${fmt.s(median(settled.map((s) => s.afterSeconds)))} after the load; 3 s after the load: RSS ${fmt.mb(atLoad)}, V8 heap used ${heapAtLoad}${malloc}${quick}`,
  };
}

function replayRows(r: ReplayResult): Row[] {
  const rate = median(r.eventsPerSecond);
  const warm = median(r.snapshotStartSeconds);
  const full = r.events >= 1_000_000;
  return [
    {
      benchmark: "replay",
      metric: `read models rebuilt, events/s (${fmt.n(r.events)} events)`,
      value: fmt.n(rate),
      target: "≥ 150,000",
      verdict: verdict(rate >= 150_000),
      comparison: `restart with no snapshot: ${fmt.s(r.coldStartSeconds)}`,
    },
    {
      benchmark: "replay",
      metric: "restart to serving with a snapshot",
      value: fmt.s(warm),
      target: "< 2 s at 1,000,000 events",
      verdict: full ? verdict(warm < 2) : "—",
      comparison: `${fmt.ratio(r.coldStartSeconds / warm)} faster than without; snapshot ${fmt.mb(r.snapshotBytes)}`,
    },
  ];
}

function apiRows(runs: ApiRun[], clients: number): Row[] {
  const rows: Row[] = [];
  for (const [name, pick, floorOf] of [
    ["DescribeTasks (100 tasks)", (r: ApiRun) => r.describeTasks, (r: ApiRun) => r.floor.describeTasks],
    ["ListTasks", (r: ApiRun) => r.listTasks, (r: ApiRun) => r.floor.listTasks],
  ] as const) {
    const rps = median(runs.map((r) => pick(r).requestsPerSecond));
    const p99 = median(runs.map((r) => pick(r).latency.p99));
    const floorRps = median(runs.map((r) => floorOf(r).requestsPerSecond));
    rows.push({
      benchmark: "API",
      metric: `${name}, req/s at ${clients} clients`,
      value: fmt.n(rps),
      target: "≥ 10,000 req/s, p99 < 5 ms",
      verdict: verdict(rps >= 10_000 && p99 < 5),
      comparison: `p50 ${fmt.ms(median(runs.map((r) => pick(r).latency.p50)))}, p99 ${fmt.ms(p99)}; ${fmt.n(median(runs.map((r) => pick(r).responseBytes)))} bytes per answer; CPU per request: control plane ${fmt.n(median(runs.map((r) => pick(r).serverCpuMicros)))} µs, load generator ${fmt.n(median(runs.map((r) => pick(r).clientCpuMicros)))} µs; a bare server sending the same answer as fixed bytes through Berth's HTTP reading: ${fmt.n(floorRps)} req/s, p99 ${fmt.ms(median(runs.map((r) => floorOf(r).latency.p99)))}, ${fmt.n(median(runs.map((r) => floorOf(r).serverCpuMicros)))} µs CPU per request (Berth ${fmt.ratio(rps / floorRps)} of it)`,
    });
  }
  const p99 = median(runs.map((r) => r.runTask.p99));
  rows.push({
    benchmark: "API",
    metric: "RunTask latency p99",
    value: fmt.ms(p99),
    target: "< 25 ms",
    verdict: verdict(p99 < 25),
    comparison: `p50 ${fmt.ms(median(runs.map((r) => r.runTask.p50)))}`,
  });
  return rows;
}

async function dockerBenchmarks(d: Sizes["docker"], dir: string, say: (s: string) => void, notes: string[]): Promise<Row[]> {
  const env = await dk.dockerEnv(dir);
  const rows: Row[] = [];
  try {
    say(`docker: RunTask vs docker run, ${d.samples} samples`);
    const rt = await dk.runTaskVsDockerRun(env, d.samples);
    const overhead = median(rt.berth) - median(rt.raw);
    rows.push({
      benchmark: "RunTask on Docker",
      metric: "p50 overhead over `docker run -d`",
      value: fmt.ms(overhead),
      target: "< 100 ms",
      verdict: verdict(overhead < 100),
      comparison: `Berth p50 ${fmt.ms(median(rt.berth))} (p99 ${fmt.ms(percentile(rt.berth, 99))}); docker run p50 ${fmt.ms(median(rt.raw))} (p99 ${fmt.ms(percentile(rt.raw, 99))})`,
    });

    say(`docker: replacement after docker kill, ${d.replacements} samples each`);
    const berth = await dk.berthReplacement(env, d.replacements);
    const swarm = await dk.ensureSwarm(env.docker);
    let swarmRepl: number[] = [];
    const scale = { berth: [] as number[], raw: [] as number[], swarm: [] as number[] };
    try {
      swarmRepl = await dk.swarmReplacement(env, d.replacements);
      say(`docker: scale-out 0 → ${d.scale}, ${d.scaleRuns} round(s)`);
      for (let i = 0; i < d.scaleRuns; i++) {
        scale.berth.push(await dk.berthScaleOut(env, d.scale, i));
        scale.raw.push(await dk.rawScaleOut(env, d.scale, i));
        scale.swarm.push(await dk.swarmScaleOut(env, d.scale, i));
      }
    } finally {
      await swarm.leave();
    }
    if (swarm.initialised) notes.push("Docker Swarm was initialised for the comparison (`docker swarm init --advertise-addr 127.0.0.1`) and left afterwards.");
    else notes.push("Docker Swarm was already active on this engine; the comparison used it and left it as it was.");
    notes.push("Swarm services were created with `--restart-delay 0s` (Swarm's default waits 5 s before restarting a task) and `--no-resolve-image`.");
    const bp50 = median(berth);
    rows.push({
      benchmark: "replacement",
      metric: "`docker kill` of a service task → replacement RUNNING, p50",
      value: fmt.ms(bp50),
      target: "p50 < 500 ms",
      verdict: verdict(bp50 < 500),
      comparison: `Berth p99 ${fmt.ms(percentile(berth, 99))}; Swarm p50 ${fmt.ms(median(swarmRepl))}, p99 ${fmt.ms(percentile(swarmRepl, 99))} (${fmt.ratio(median(swarmRepl) / bp50)} Berth's p50)`,
    });
    const ratio = median(scale.berth) / median(scale.raw);
    rows.push({
      benchmark: "scale-out",
      metric: `service 0 → ${d.scale} RUNNING, seconds`,
      value: fmt.s(median(scale.berth)),
      target: "within 1.1× of raw docker run",
      verdict: verdict(ratio <= 1.1),
      comparison: `${d.scale} parallel docker run ${fmt.s(median(scale.raw))} (Berth ${fmt.ratio(ratio)}); docker service scale ${fmt.s(median(scale.swarm))} (${fmt.ratio(median(scale.swarm) / median(scale.raw))})`,
    });
  } finally {
    await env.stop();
  }
  return rows;
}
