import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { buckets, snapshotKeys } from "../../events/names.ts";
import { NODE_FLAGS } from "../cli/node-flags.ts";
import { ReadModel } from "../control-plane/read-model.ts";
import { LogFollower } from "../store/log-follower.ts";
import { ensureStreams } from "../store/topology.ts";
import { startNats } from "./processes.ts";
import { recordLog, writeLog } from "./replay-log.ts";
import { median, since } from "./stats.ts";

/**
 * Replay: the read model folded from a log of `events` real-shaped events (replay-log.ts), and a
 * control plane restarted on that log — first with no snapshot (it writes one), then from its
 * snapshot. The fold runs in this process; each restart in a fresh one, timed from the call to
 * startControlPlane, so the figures exclude Node's start and module loading.
 */

export interface ReplayParams {
  dir: string;
  events: number;
  runs: number;
}

export interface ReplayResult {
  events: number;
  /** Fold rate of a fresh read model over the whole log, per run. */
  eventsPerSecond: number[];
  /** startControlPlane → serving, with no snapshot in KV. */
  coldStartSeconds: number;
  /** startControlPlane → serving from the snapshot, per run. */
  snapshotStartSeconds: number[];
  /** Tasks the read model holds at the end. */
  tasks: number;
  /** Size of the snapshot the first restart wrote. */
  snapshotBytes: number;
}

const silent = pino({ level: "silent" });
const run = promisify(execFile);
const PROBE = fileURLToPath(new URL("./restart-probe.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export async function replayRun(p: ReplayParams): Promise<ReplayResult> {
  const recording = await recordLog(p.dir, 20, 15);
  const nats = await startNats(p.dir, "replay-nats");
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    const events = await writeLog(nc, recording, p.events);
    const head = (await jsm.streams.info("BERTH_EVENTS")).state.last_seq;

    const rates: number[] = [];
    let tasks = 0;
    for (let i = 0; i < p.runs; i++) {
      const model = new ReadModel(silent);
      const follower = new LogFollower(nc, silent, (m) => model.apply(m.seq, m.subject, m.data));
      const t0 = performance.now();
      await follower.start(1);
      await follower.waitFor(head, 30 * 60_000);
      rates.push(head / (since(t0) / 1000));
      tasks = model.tasks.size;
      await follower.stop();
    }

    const kv = await new Kvm(jetstream(nc)).create(buckets.snapshots, { history: 1 });
    const manifest = async () => {
      const e = await kv.get(snapshotKeys.manifest);
      return e?.operation === "PUT" ? e.json<{ seq: number; bytes: number }>() : undefined;
    };
    // Each start in a process of its own (restart-probe.ts): none inherits another's heap.
    const start = async (awaitSnapshot: boolean) => {
      const { stdout } = await run(process.execPath, [...NODE_FLAGS, "--import", "tsx", PROBE, nats.url, ...(awaitSnapshot ? ["--await-snapshot", String(head)] : [])], {
        cwd: ROOT,
        maxBuffer: 1 << 20,
      });
      const line = stdout.trim().split("\n").pop() ?? "";
      return (JSON.parse(line) as { seconds: number }).seconds;
    };
    const coldStartSeconds = await start(true);
    const snapshotBytes = (await manifest())?.bytes ?? Number.NaN;
    const snapshotStartSeconds: number[] = [];
    for (let i = 0; i < p.runs; i++) snapshotStartSeconds.push(await start(false));
    return { events, eventsPerSecond: rates, coldStartSeconds, snapshotStartSeconds, tasks, snapshotBytes };
  } finally {
    await nc.close().catch(() => {});
    await nats.stop();
  }
}

export const medianRate = (r: ReplayResult) => median(r.eventsPerSecond);
