import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { startControlPlane } from "../control-plane/control-plane.ts";
import { ReadModel } from "../control-plane/read-model.ts";
import { LogFollower } from "../store/log-follower.ts";
import { ensureStreams } from "../store/topology.ts";
import { startNats } from "./processes.ts";
import { recordLog, writeLog } from "./replay-log.ts";
import { median, since } from "./stats.ts";

/**
 * Replay: the read model folded from a log of `events` real-shaped events (replay-log.ts), and a
 * control plane restarted on that log — first with no snapshot (it writes one), then from its
 * snapshot. Both run in this process, so the figures exclude Node's start and module loading.
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
}

const silent = pino({ level: "silent" });

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
      const follower = new LogFollower(jetstream(nc), silent, (m) => model.apply(m.seq, m.subject, m.data));
      const t0 = performance.now();
      await follower.start(1);
      await follower.waitFor(head, 30 * 60_000);
      rates.push(head / (since(t0) / 1000));
      tasks = model.tasks.size;
      await follower.stop();
    }

    const start = async () => {
      const conn = await connect({ servers: nats.url });
      const t0 = performance.now();
      const cp = await startControlPlane({ nc: conn, log: silent, port: 0, lostAgentTimeoutMs: 3_600_000 });
      const seconds = since(t0) / 1000;
      await cp.stop();
      await conn.close();
      return seconds;
    };
    const coldStartSeconds = await start();
    const snapshotStartSeconds: number[] = [];
    for (let i = 0; i < p.runs; i++) snapshotStartSeconds.push(await start());
    return { events, eventsPerSecond: rates, coldStartSeconds, snapshotStartSeconds, tasks };
  } finally {
    await nc.close().catch(() => {});
    await nats.stop();
  }
}

export const medianRate = (r: ReplayResult) => median(r.eventsPerSecond);
