/**
 * One control-plane start in a fresh process, timed from the call to startControlPlane until it
 * serves (Node's start and module loading are not counted): the replay benchmark runs it for each
 * restart, so no restart inherits another's heap.
 *
 *   node --import tsx services/bench/restart-probe.ts <nats-url> [--await-snapshot <seq>]
 *
 * Prints one JSON line: { "seconds": …, "tasks": … }.
 */
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { buckets, snapshotKeys } from "../../events/names.ts";
import { startControlPlane } from "../control-plane/control-plane.ts";

const [url, flag, seq] = process.argv.slice(2);
if (!url) throw new Error("usage: restart-probe.ts <nats-url> [--await-snapshot <seq>]");
const nc = await connect({ servers: url, noAsyncTraces: true });
const t0 = performance.now();
const cp = await startControlPlane({ nc, log: pino({ level: "warn" }), port: 0, lostAgentTimeoutMs: 3_600_000 });
const seconds = (performance.now() - t0) / 1000;
if (flag === "--await-snapshot") {
  // A start that replayed the whole log writes a snapshot of it; wait until it is in KV.
  const kv = await new Kvm(jetstream(nc)).open(buckets.snapshots);
  const deadline = Date.now() + 600_000;
  for (;;) {
    const e = await kv.get(snapshotKeys.manifest);
    if (e?.operation === "PUT" && e.json<{ seq: number }>().seq === Number(seq)) break;
    if (Date.now() > deadline) throw new Error("no snapshot was written after the replay");
    await new Promise((r) => setTimeout(r, 200));
  }
}
console.log(JSON.stringify({ seconds, tasks: cp.model.tasks.size }));
await cp.stop();
await nc.close();
process.exit(0);
