import { afterAll, beforeAll, expect, test } from "vitest";
import { buckets, consumers, streams } from "../../events/names.ts";
import {
  chaosCluster,
  describeAll,
  type ServerHandle,
  serverProcess,
  waitConverged,
  waitForInstances,
} from "../support/chaos-world.ts";
import { readEventLog, tasksCreated } from "../support/event-log.ts";
import { type HollowFleet, startHollowFleet } from "../support/hollow-fleet.ts";
import { runTaskLoad } from "../support/load.ts";
import { scrapeMetric } from "../support/metrics.ts";
import {
  ephemeralConsumerHosts,
  moveLeader,
  type NatsCluster,
  startNatsCluster,
  streamLeader,
  waitClusterCurrent,
  withJsm,
} from "../support/nats-cluster.ts";
import { watchProgress } from "../support/progress.ts";
import { waitFor } from "../support/wait.ts";

// Fault: a member of a three-server NATS cluster dies (kill -9) under a RunTask load and comes
// back; then another. The first leads the event log and the observation consumer and holds the
// control plane's log follower, the second holds its heartbeat watch — the members whose loss
// hurts most. Guarantee: no
// acknowledged event is lost, the load and the heartbeats never stall for longer than the
// cluster's own failover (a new Raft leader, the clients' reconnect), and a returning member
// catches up by itself.

const TOTAL = 1_000;
const CONCURRENCY = 16;
const INSTANCES = 4;
/**
 * Longest pause in progress accepted: NATS elects a new leader for the log (a follower waits 4-9 s
 * for a lost leader before it stands: nats-server's Raft election timeout), clients reconnect
 * within their 2 s wait, and a publish caught in between times out after 5 s. The read model does
 * not wait for a new consumer meanwhile (the log feed reads on by direct gets).
 */
const FAILOVER_MS = 20_000;
/**
 * Longest pause in tasks reaching RUNNING: a directive or an observation that a dead consumer
 * leader had handed out, unacknowledged, is redelivered only after its consumer's ack wait (30 s,
 * the agent's directives and the control plane's observations), then folded within seconds.
 */
const REDELIVERY_MS = 30_000 + 10_000;

let nats: NatsCluster;
let server: ServerHandle;
let fleet: HollowFleet | undefined;

const stops: (() => unknown)[] = [];

beforeAll(async () => {
  nats = await startNatsCluster(3);
  server = await serverProcess({ name: "chaos-nats-cluster-server", nats: nats.urls, args: ["--replicas", "3"] });
  await server.start();
});
afterAll(async () => {
  // A failed test leaves its load and watchers running: they end here, before what they talk to.
  for (const stop of stops) await stop();
  await fleet?.close();
  await server?.stop();
  await nats?.stop();
});

test("a three-server NATS cluster loses a member under 1,000 RunTask calls, twice, and gets it back: no loss, no stall past failover", {
  timeout: 170_000,
}, async () => {
  const { cluster, taskDefinition } = await chaosCluster(server.ecs, "chaos-raft");
  fleet = await startHollowFleet({ servers: nats.urls, cluster, count: INSTANCES });
  await waitForInstances(server.ecs, cluster, INSTANCES);
  const heartbeatStream = await withJsm(nats.urls, async (jsm) => {
    for await (const name of jsm.streams.names()) if (name.endsWith(buckets.heartbeats)) return name;
    throw new Error("no stream for the heartbeats bucket");
  });

  const load = runTaskLoad({
    ecs: () => server.ecs,
    cluster,
    taskDefinition,
    total: TOTAL,
    concurrency: CONCURRENCY,
    tokenPrefix: cluster,
    deadlineMs: 130_000,
  });
  stops.push(
    () => load.stop(),
    () => load.done,
  );
  const answering = watchProgress("answered RunTask calls", () => load.answered.size, {
    stallMs: FAILOVER_MS,
    until: () => load.answered.size >= TOTAL,
  });
  stops.push(() => answering.stop());
  const beating = watchProgress(
    "heartbeats seen by the control plane",
    () => scrapeMetric(server.endpoint, "berth_agent_heartbeats_total"),
    {
      stallMs: FAILOVER_MS,
      intervalMs: 500,
    },
  );
  stops.push(() => beating.stop());
  // Observations folded (tasks reaching RUNNING) keep up too, until every task runs, within the
  // redelivery of what a dead leader had handed out.
  let running = 0;
  const starting = watchProgress(
    "tasks RUNNING",
    async () => (running = await scrapeMetric(server.endpoint, "berth_tasks", { cluster, last_status: "RUNNING" })),
    { stallMs: REDELIVERY_MS, intervalMs: 500, until: () => running >= TOTAL },
  );
  stops.push(() => starting.stop());

  // Fault 1: the member that leads the event log and the control plane's observation consumer
  // and holds its log follower.
  await waitFor(() => load.answered.size >= TOTAL * 0.2, { timeoutMs: 60_000, what: "20% of the load answered" });
  const answeredBefore = new Map(load.answered);
  const [followerHost] = await ephemeralConsumerHosts(nats.urls, streams.events);
  expect(followerHost).toBeDefined();
  await moveLeader(nats.urls, followerHost as string, streams.events);
  await moveLeader(nats.urls, followerHost as string, streams.observations, consumers.observations);
  const first = nats.member(followerHost as string);
  await first.kill9();
  // The cluster carries on with two members; the third comes back once it has.
  await waitFor(() => load.answered.size >= TOTAL * 0.45, {
    timeoutMs: 60_000,
    what: "45% of the load answered with a member down",
  });
  expect(await streamLeader(nats.urls, streams.events)).not.toBe(followerHost);
  await first.restart();
  // One fault at a time: the cluster heals (every stream's replicas current) before the next.
  await waitClusterCurrent(nats.urls, 3, 60_000);

  // Fault 2: the member holding the control plane's heartbeat watch.
  const [watchHost] = await ephemeralConsumerHosts(nats.urls, heartbeatStream);
  expect(watchHost).toBeDefined();
  const second = nats.member(watchHost as string);
  await second.kill9();
  await waitFor(() => load.answered.size >= TOTAL * 0.7, {
    timeoutMs: 60_000,
    what: "70% of the load answered with a member down",
  });
  await second.restart();
  await load.done;
  // Observations flow again (the consumers moved to live members): the last tasks answered are
  // RUNNING within REDELIVERY_MS.
  await waitConverged(server.ecs, cluster, [...load.answered.values()].slice(-CONCURRENCY), REDELIVERY_MS);
  await answering.stop();
  await beating.stop();
  await starting.stop();

  expect(load.errors.filter((e) => e.kind !== "retriable")).toEqual([]);
  expect(load.failures).toEqual([]);
  expect(load.disagreements).toEqual([]);
  expect(load.answered.size).toBe(TOTAL);
  expect(answering.stalls).toEqual([]);
  expect(beating.stalls).toEqual([]);
  expect(starting.stalls).toEqual([]);

  // The returning members caught up: every replica of every stream is current again.
  await waitClusterCurrent(nats.urls, 3, 60_000);

  // No acknowledged event lost, none doubled.
  const arns = [...load.answered.values()];
  for (const [token, arn] of answeredBefore) expect(load.answered.get(token)).toBe(arn);
  const created = tasksCreated(await readEventLog(nats.urls), cluster);
  expect(created).toHaveLength(TOTAL);
  expect(new Set(created.map((t) => t.taskArn))).toEqual(new Set(arns));
  const { missing } = await describeAll(server.ecs, cluster, arns);
  expect(missing).toEqual([]);
  const tasks = await waitConverged(server.ecs, cluster, arns, 60_000);
  expect(tasks.filter((t) => t.lastStatus !== "RUNNING")).toEqual([]);
});
