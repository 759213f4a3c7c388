import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ClusterCreated } from "../../events/cluster.events.ts";
import { envelope } from "../../events/envelope.ts";
import { streams, subjects } from "../../events/names.ts";
import { decideCluster, initialCluster } from "../../machines/cluster/cluster.decide.ts";
import { CommandBus } from "../../services/control-plane/commands.ts";
import { ReadModel } from "../../services/control-plane/read-model.ts";
import { ConcurrencyError, EventStore } from "../../services/store/event-store.ts";
import { LogFollower } from "../../services/store/log-follower.ts";
import { ensureStreams } from "../../services/store/topology.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";

const log = pino({ level: "silent" });
let server: NatsServerHandle;
let nc: NatsConnection;

/** One "control plane" worth of store machinery: its own read model, follower and command bus. */
async function node(conn: NatsConnection) {
  const js = jetstream(conn);
  const jsm = await jetstreamManager(conn);
  const store = new EventStore(nc, js, jsm, log);
  const model = new ReadModel(log);
  const follower = new LogFollower(conn, log, (m) => model.apply(m.seq, m.subject, m.data));
  await follower.start(1);
  await follower.waitFor(await store.head());
  const bus = new CommandBus(store, follower, log, "test");
  return { store, model, follower, bus };
}

const created = (name: string, at = 1): ClusterCreated => ({
  type: "ClusterCreated",
  at,
  clusterArn: `arn:aws:ecs:us-east-1:000000000000:cluster/${name}`,
  clusterName: name,
  settings: [],
  capacityProviders: [],
  defaultCapacityProviderStrategy: [],
  tags: [],
});

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  await ensureStreams(await jetstreamManager(nc));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("event store on a real nats-server", () => {
  test("two appends at the same expected sequence: exactly one wins", async () => {
    const { store } = await node(nc);
    const subject = subjects.cluster("us-east-1", "race");
    const a = envelope(subject, "arn:a", 1, created("race", 1), { source: "a" });
    const b = envelope(subject, "arn:b", 1, created("race", 2), { source: "b" });
    const results = await Promise.allSettled([store.append(subject, [a], 0), store.append(subject, [b], 0)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(ConcurrencyError);
    expect(await store.read(subject)).toHaveLength(1);
  });

  test("the loser of a race re-reads and decides again: both commands take effect", async () => {
    const one = await node(nc);
    const nc2 = await connect({ servers: server.url });
    const two = await node(nc2);
    const subject = subjects.cluster("us-east-1", "redecide");
    await one.bus.execute({
      subject,
      resource: "arn",
      get: () => one.model.clusters.get(subject),
      initial: initialCluster,
      decide: (s) => decideCluster({ type: "CreateCluster", event: created("redecide") }, s),
    });
    await two.follower.waitFor(await two.store.lastSeq(subject));
    // Both nodes decide from the same version; the broker lets one append, the other must re-decide.
    const tag = (bus: CommandBus, model: ReadModel, key: string) =>
      bus.execute({
        subject,
        resource: "arn",
        get: () => model.clusters.get(subject),
        initial: initialCluster,
        decide: (s) => decideCluster({ type: "TagCluster", at: 5, tags: [{ key, value: "1" }] }, s),
      });
    const [r1, r2] = await Promise.all([tag(one.bus, one.model, "from-one"), tag(two.bus, two.model, "from-two")]);
    expect(r1.ok && r2.ok).toBe(true);
    await one.follower.waitFor(await one.store.lastSeq(subject));
    const tags = one.model.clusters.get(subject)?.snapshot.context.tags.map((t) => t.key).sort();
    expect(tags).toEqual(["from-one", "from-two"]);
    expect((await one.store.read(subject)).map((s) => s.envelope.type)).toEqual([
      "ClusterCreated",
      "ClusterTagsChanged",
      "ClusterTagsChanged",
    ]);
    await two.follower.stop();
    await nc2.close();
    await one.follower.stop();
  });

  test("a repeated msgID is stored once", async () => {
    const { store } = await node(nc);
    const subject = subjects.cluster("us-east-1", "dedupe");
    const e = envelope(subject, "arn", 1, created("dedupe"), { source: "t" });
    const first = await store.append(subject, [e], 0);
    const again = await store.append(subject, [e], 0);
    expect(again[0]?.duplicate).toBe(true);
    expect(again[0]?.seq).toBe(first[0]?.seq);
    expect(await store.read(subject)).toHaveLength(1);
  });

  test("a read model rebuilt from the stream equals the live one", async () => {
    const live = await node(nc);
    for (const name of ["m1", "m2", "m3"]) {
      const subject = subjects.cluster("us-east-1", name);
      await live.bus.execute({
        subject,
        resource: "arn",
        get: () => live.model.clusters.get(subject),
        initial: initialCluster,
        decide: (s) => decideCluster({ type: "CreateCluster", event: created(name) }, s),
      });
    }
    const m1 = subjects.cluster("us-east-1", "m1");
    await live.bus.execute({
      subject: m1,
      resource: "arn",
      get: () => live.model.clusters.get(m1),
      initial: initialCluster,
      decide: (s) => decideCluster({ type: "DeleteCluster", at: 9, holdings: { activeServices: 0, tasks: 0, instances: 0 } }, s),
    });
    // A new connection and a fresh fold from sequence 1, as after a restart.
    const nc2 = await connect({ servers: server.url });
    const rebuilt = await node(nc2);
    const view = (m: ReadModel) =>
      [...m.clusters.values()].map((a) => ({ subject: a.subject, value: a.snapshot.value, ctx: a.snapshot.context, seq: a.seq, v: a.version }));
    expect(view(rebuilt.model)).toEqual(view(live.model));
    expect(rebuilt.model.clusters.get(m1)?.snapshot.value).toBe("INACTIVE");
    await rebuilt.follower.stop();
    await nc2.close();
    await live.follower.stop();
  });

  test("an undecodable message in the log is skipped by the stated policy, and folding goes on", async () => {
    const js = jetstream(nc);
    await js.publish("berth.evt.us-east-1.cluster.garbage", "not json at all");
    await js.publish("berth.evt.us-east-1.unknownkind.x", JSON.stringify({ data: { type: "Nope" } }));
    const after = await node(nc);
    expect(after.model.skipped).toBeGreaterThanOrEqual(2);
    const info = await (await jetstreamManager(nc)).streams.info(streams.events);
    expect(after.follower.seq).toBe(info.state.last_seq);
    await after.follower.stop();
  });
});
