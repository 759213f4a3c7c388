import { DescribeContainerInstancesCommand, ListContainerInstancesCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, test } from "vitest";
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
import { watchProgress } from "../support/progress.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

// Fault: nats-server dies (kill -9) in the middle of a RunTask load and is started again on the
// same port and store. Guarantee: no acknowledged event is lost; while NATS is away callers get
// retriable errors, never a 200 for a write that was not stored; and everything — the control
// plane's log follower, observation consumer and heartbeat watch, the agents' directive
// consumers — resumes by itself.

const TOTAL = 1_000;
const CONCURRENCY = 16;
const INSTANCES = 4;
/** Longest pause in progress accepted after the restart (NATS restarts in well under a second). */
const STALL_MS = 15_000;
/**
 * Longest pause in tasks reaching RUNNING: a directive or an observation that a dead consumer
 * leader had handed out, unacknowledged, is redelivered only after its consumer's ack wait (30 s,
 * the agent's directives and the control plane's observations), then folded within seconds.
 */
const REDELIVERY_MS = 30_000 + 10_000;

let nats: NatsServerHandle;
let server: ServerHandle;
let fleet: HollowFleet | undefined;

const stops: (() => unknown)[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  server = await serverProcess({
    name: "chaos-nats-kill-server",
    nats: nats.url,
    args: ["--lost-agent-timeout", "15"],
  });
  await server.start();
});
afterAll(async () => {
  // A failed test leaves its load and watchers running: they end here, before what they talk to.
  for (const stop of stops) await stop();
  await fleet?.close();
  await server?.stop();
  await nats?.stop();
});

test("kill -9 of nats-server under 1,000 RunTask calls: retriable errors during the outage, nothing acknowledged lost, all resumes", {
  timeout: 150_000,
}, async () => {
  const { cluster, taskDefinition } = await chaosCluster(server.ecs, "chaos-nats");
  // Hollow agents built from the real agent's directive consumer, observation publisher and
  // heartbeat loop, so the agent side of the reconnection is under test as well.
  fleet = await startHollowFleet({ servers: nats.url, cluster, count: INSTANCES });
  await waitForInstances(server.ecs, cluster, INSTANCES);

  const load = runTaskLoad({
    ecs: () => server.ecs,
    cluster,
    taskDefinition,
    total: TOTAL,
    concurrency: CONCURRENCY,
    tokenPrefix: cluster,
    deadlineMs: 110_000,
  });
  stops.push(
    () => load.stop(),
    () => load.done,
  );
  await waitFor(() => load.answered.size >= TOTAL * 0.3, { timeoutMs: 60_000, what: "30% of the load answered" });
  const answeredBefore = new Map(load.answered);
  await nats.kill9();
  const killedAt = Date.now();
  // The outage lasts until callers have felt it.
  await waitFor(() => load.errors.some((e) => e.at >= killedAt), {
    timeoutMs: 30_000,
    what: "a failed call during the outage",
  });
  await nats.restart();
  // Resumes by itself, and keeps going: from the restart on, answers and heartbeats (the log
  // follower, the KV watch) never stop for longer than STALL_MS, and tasks reaching RUNNING (the
  // observation and directive consumers) for longer than REDELIVERY_MS…
  const answering = watchProgress("answered RunTask calls", () => load.answered.size, {
    stallMs: STALL_MS,
    until: () => load.answered.size >= TOTAL,
  });
  stops.push(() => answering.stop());
  const beating = watchProgress(
    "heartbeats seen by the control plane",
    () => scrapeMetric(server.endpoint, "berth_agent_heartbeats_total"),
    {
      stallMs: STALL_MS,
      intervalMs: 500,
    },
  );
  stops.push(() => beating.stop());
  let running = 0;
  const starting = watchProgress(
    "tasks RUNNING",
    async () => (running = await scrapeMetric(server.endpoint, "berth_tasks", { cluster, last_status: "RUNNING" })),
    { stallMs: REDELIVERY_MS, intervalMs: 500, until: () => running >= TOTAL },
  );
  stops.push(() => starting.stop());
  await load.done;
  // …and observations are folded again (the agents' directive consumers, the control plane's
  // observation consumer): the last tasks answered are RUNNING within REDELIVERY_MS.
  await waitConverged(server.ecs, cluster, [...load.answered.values()].slice(-CONCURRENCY), REDELIVERY_MS);
  await answering.stop();
  await beating.stop();
  await starting.stop();
  expect(answering.stalls).toEqual([]);
  expect(beating.stalls).toEqual([]);
  expect(starting.stalls).toEqual([]);

  // Every error was a retriable one, answered by the server (it stayed up): a 5xx ServerException
  // or a ThrottlingException. Nothing was refused as if it were the caller's fault.
  expect(load.errors.filter((e) => e.kind !== "retriable")).toEqual([]);
  for (const e of load.errors) expect(["ServerException", "ThrottlingException"]).toContain(e.name);
  expect(load.failures).toEqual([]);
  expect(load.disagreements).toEqual([]);
  expect(load.answered.size).toBe(TOTAL);

  // No acknowledged event lost: every 200 (before, during and after the outage) is in the log,
  // once per clientToken, and the read model serves it.
  const arns = [...load.answered.values()];
  for (const [token, arn] of answeredBefore) expect(load.answered.get(token)).toBe(arn);
  const created = tasksCreated(await readEventLog(nats.url), cluster);
  expect(new Set(created.map((t) => t.taskArn))).toEqual(new Set(arns));
  expect(created).toHaveLength(TOTAL);
  const { missing } = await describeAll(server.ecs, cluster, arns);
  expect(missing).toEqual([]);

  // Every task reaches RUNNING…
  const tasks = await waitConverged(server.ecs, cluster, arns, 60_000);
  expect(tasks.filter((t) => t.lastStatus !== "RUNNING")).toEqual([]);
  // …and no instance was written off as lost.
  const instanceArns =
    (await server.ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns ?? [];
  const described = await server.ecs.send(
    new DescribeContainerInstancesCommand({ cluster, containerInstances: instanceArns }),
  );
  expect(described.containerInstances?.map((i) => i.agentConnected)).toEqual(Array(INSTANCES).fill(true));
});
