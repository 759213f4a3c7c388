import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buckets } from "../../events/names.ts";
import { taskArnOf } from "../../machines/task/task.spec.ts";
import { EcsHttp } from "../../services/bench/ecs-http.ts";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/control-plane.ts";
import { type Agg, ReadModel } from "../../services/control-plane/read-model.ts";
import {
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_FORMAT,
  SnapshotDecoder,
} from "../../services/control-plane/snapshot-codec.ts";
import { SnapshotStore } from "../../services/control-plane/snapshots.ts";
import { type Fleet, startFleet } from "../../services/sim/fleet.ts";
import { LogFollower } from "../../services/store/log-follower.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Read-model snapshots: a model restored from a snapshot equals the model folded from the whole
 * log, field by field (aggregates and every index), and a control plane restarted from a snapshot
 * answers as before and goes on folding new events.
 */

const log = pino({ level: "silent" });
const CLUSTER = "snap";
let nats: NatsServerHandle;
let cpConn: NatsConnection;
let simConn: NatsConnection;
let cp: ControlPlane;
let fleet: Fleet;
let api: EcsHttp;
let tokenArns: string[] = [];

async function runningCount(arns: string[]): Promise<number> {
  const r = await api.call<{ tasks: { lastStatus: string }[] }>("DescribeTasks", { cluster: CLUSTER, tasks: arns });
  return r.tasks.filter((t) => t.lastStatus === "RUNNING").length;
}

beforeAll(async () => {
  nats = await startNatsServer();
  cpConn = await connect({ servers: nats.url });
  simConn = await connect({ servers: nats.url });
  cp = await startControlPlane({ nc: cpConn, log, port: 0, lostAgentTimeoutMs: 120_000 });
  api = new EcsHttp(cp.url);
  await api.call("CreateCluster", { clusterName: CLUSTER });
  await api.call("RegisterTaskDefinition", {
    family: "snap",
    containerDefinitions: [{ name: "app", image: "x", cpu: 32, memory: 64 }],
  });
  fleet = await startFleet({
    nc: simConn,
    log,
    region: "us-east-1",
    cluster: CLUSTER,
    instances: 6,
    startLatencyMs: 5,
  });
  const run = await api.call<{ tasks: { taskArn: string }[] }>("RunTask", {
    cluster: CLUSTER,
    taskDefinition: "snap",
    count: 8,
    clientToken: "snap-token",
  });
  const arns = run.tasks.map((t) => t.taskArn);
  tokenArns = arns;
  await waitFor(async () => (await runningCount(arns)) === 8, { timeoutMs: 30_000, what: "8 RunTask tasks RUNNING" });
  for (const arn of arns.slice(0, 3)) await api.call("StopTask", { cluster: CLUSTER, task: arn });
  await api.call("CreateService", { cluster: CLUSTER, serviceName: "web", taskDefinition: "snap", desiredCount: 4 });
  await waitFor(
    async () => {
      const s = await api.call<{ services: { runningCount: number }[] }>("DescribeServices", {
        cluster: CLUSTER,
        services: ["web"],
      });
      return s.services[0]?.runningCount === 4;
    },
    { timeoutMs: 30_000, what: "service web with 4 RUNNING tasks" },
  );
  await waitFor(async () => (await runningCount(arns.slice(0, 3))) === 0, {
    timeoutMs: 30_000,
    what: "3 stopped tasks STOPPED",
  });
});

afterAll(async () => {
  api?.close();
  await fleet?.stop();
  await cp?.stop();
  await simConn?.close();
  await cpConn?.close();
  await nats?.stop();
});

/** A model folded from the whole log, as a fresh control plane would have it. */
async function replayed(conn: NatsConnection): Promise<ReadModel> {
  const model = new ReadModel(log);
  const follower = new LogFollower(conn, log, (m) => model.apply(m.seq, m.subject, m.data));
  await follower.start(1);
  await follower.waitFor(cp.follower.seq);
  await follower.stop();
  return model;
}

const plain = (a: Agg<{ value: unknown; context: unknown; status?: unknown }>) => ({
  subject: a.subject,
  region: a.region,
  seq: a.seq,
  version: a.version,
  lastEvent: a.lastEvent,
  value: a.snapshot.value,
  status: a.snapshot.status,
  context: a.snapshot.context,
});

describe("read-model snapshots", () => {
  test("a model restored from a snapshot equals the model folded from the whole log", async () => {
    const model = await replayed(cpConn);
    const seq = cp.follower.seq;
    const restored = new ReadModel(log);
    const { header, adopt } = decodeSnapshot(
      encodeSnapshot(model, { format: SNAPSHOT_FORMAT, app: "test", seq, at: 1 }),
    );
    adopt(restored);
    expect(header.seq).toBe(seq);
    expect(model.tasks.size).toBeGreaterThanOrEqual(12);
    // Every Map of the read model — aggregates and indexes, including any added later — must match.
    const fields = Object.keys(model).filter((k) => (model as unknown as Record<string, unknown>)[k] instanceof Map);
    expect(fields).toEqual(
      expect.arrayContaining(["tasks", "usage", "clientTokens", "liveTasksByInstance", "tasksByService"]),
    );
    for (const field of fields) {
      const a = (model as unknown as Record<string, Map<string, unknown>>)[field] as Map<string, unknown>;
      const b = (restored as unknown as Record<string, Map<string, unknown>>)[field] as Map<string, unknown>;
      const isAgg = (v: unknown) => typeof v === "object" && v !== null && "snapshot" in v;
      const norm = (m: Map<string, unknown>) =>
        new Map([...m].map(([k, v]) => [k, isAgg(v) ? plain(v as Agg<{ value: unknown; context: unknown }>) : v]));
      expect({ field, entries: norm(b) }).toEqual({ field, entries: norm(a) });
    }
  });

  test("a snapshot read back from many chunks, and decoded in pieces, gives the same model", async () => {
    const model = await replayed(cpConn);
    const seq = cp.follower.seq;
    const kv = await new Kvm(jetstream(cpConn)).create("snapshot_chunks_test", { history: 1 });
    // Small chunks: many of them, fetched in parallel and inflated in order while decoding.
    const store = new SnapshotStore(kv, log, 500);
    const bytes = await store.save(model, seq, 1);
    expect(bytes).toBeGreaterThan(5 * 500);
    const restored = new ReadModel(log);
    expect(await store.load(restored)).toMatchObject({ seq, bytes });
    expect(restored.tasks.size).toBe(model.tasks.size);
    for (const [subject, agg] of model.tasks)
      expect(plain(restored.tasks.get(subject) as never)).toEqual(plain(agg as never));

    // The decoder fed piece by piece, cut anywhere, reads what it reads whole.
    const text = encodeSnapshot(model, { format: SNAPSHOT_FORMAT, app: "test", seq, at: 1 });
    const decoder = new SnapshotDecoder();
    for (let at = 0; at < text.length; ) {
      const next = Math.min(text.length, at + 1 + ((at * 7919) % 997));
      decoder.push(text.slice(at, next));
      at = next;
    }
    const pieces = new ReadModel(log);
    decoder.end().adopt(pieces);
    const whole = new ReadModel(log);
    decodeSnapshot(text).adopt(whole);
    expect(pieces.tasks.size).toBe(whole.tasks.size);
    for (const [subject, agg] of whole.tasks)
      expect(plain(pieces.tasks.get(subject) as never)).toEqual(plain(agg as never));
    expect(pieces.liveTasksByInstance).toEqual(whole.liveTasksByInstance);
  });

  test("a control plane restarted from a snapshot answers as before and folds what comes after", async () => {
    const tasks = [...cp.model.tasks.values()].map((a) => taskArnOf(a.snapshot.context));
    const before = await api.call("DescribeTasks", { cluster: CLUSTER, tasks });
    const kv = await new Kvm(jetstream(cpConn)).open(buckets.snapshots);
    await waitFor(() => cp.model.tasks.size >= 12, { timeoutMs: 10_000, what: "the control plane's model" });
    // Encoded in the same tick as this position is read: the snapshot is exactly there.
    const snapshotSeq = cp.follower.seq;
    const bytes = await new SnapshotStore(kv, log).save(cp.model, snapshotSeq, Date.now());
    expect(bytes).toBeGreaterThan(0);
    api.close();
    await cp.stop();

    const lines: string[] = [];
    const capture = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    cp = await startControlPlane({ nc: cpConn, log: capture, port: 0, lostAgentTimeoutMs: 120_000 });
    api = new EcsHttp(cp.url);
    expect(cp.follower.seq).toBeGreaterThanOrEqual(snapshotSeq);
    const rebuilt = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "read model rebuilt from the log");
    expect(rebuilt?.snapshot).toEqual({ seq: snapshotSeq, bytes });
    expect(await api.call("DescribeTasks", { cluster: CLUSTER, tasks })).toEqual(before);

    const run = await api.call<{ tasks: { taskArn: string }[] }>("RunTask", {
      cluster: CLUSTER,
      taskDefinition: "snap",
      count: 2,
    });
    const arns = run.tasks.map((t) => t.taskArn);
    await waitFor(async () => (await runningCount(arns)) === 2, {
      timeoutMs: 30_000,
      what: "tasks run after the restart RUNNING",
    });
    // The clientToken index came back too: the same token returns the same tasks.
    const again = await api.call<{ tasks: { taskArn: string }[] }>("RunTask", {
      cluster: CLUSTER,
      taskDefinition: "snap",
      count: 8,
      clientToken: "snap-token",
    });
    expect(again.tasks.map((t) => t.taskArn)).toEqual(tokenArns);
  });
});
