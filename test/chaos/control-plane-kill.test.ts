import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Fleet, startFleet } from "../../services/sim/fleet.ts";
import {
  chaosCluster,
  describeAll,
  type ServerHandle,
  serverProcess,
  waitConverged,
  waitForInstances,
} from "../support/chaos-world.ts";
import { readEventLog, tasksCreated } from "../support/event-log.ts";
import { runTaskLoad } from "../support/load.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

// Fault: the control plane dies (kill -9) in the middle of a RunTask load and comes back.
// Guarantee: an answered RunTask is durable, a retried one (same clientToken) never creates a
// second task, and every task converges once the control plane is back.

const TOTAL = 1_000;
const CONCURRENCY = 16;
const INSTANCES = 4;

let nats: NatsServerHandle;
let server: ServerHandle;
let fleet: Fleet | undefined;
let fleetNc: NatsConnection | undefined;

const stops: (() => unknown)[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  server = await serverProcess({ name: "chaos-cp-kill-server", nats: nats.url });
  await server.start();
});
afterAll(async () => {
  // A failed test leaves its load and watchers running: they end here, before what they talk to.
  for (const stop of stops) await stop();
  await fleet?.stop();
  await fleetNc?.close();
  await server?.stop();
  await nats?.stop();
});

test("kill -9 of the control plane under 1,000 RunTask calls: every answered task survives, none is placed twice, all converge", {
  timeout: 150_000,
}, async () => {
  const { cluster, taskDefinition } = await chaosCluster(server.ecs, "chaos-cp");
  // The simulated fleet (services/sim): hollow instances that speak the agent protocol, so a
  // thousand tasks need no thousand containers.
  fleetNc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
  fleet = await startFleet({
    nc: fleetNc,
    log: pino({ level: "warn" }),
    region: "us-east-1",
    cluster,
    instances: INSTANCES,
    memory: 64 * 1024,
    heartbeatIntervalMs: 1_000,
  });
  await waitForInstances(server.ecs, cluster, INSTANCES);

  const load = runTaskLoad({
    ecs: () => server.ecs,
    cluster,
    taskDefinition,
    total: TOTAL,
    concurrency: CONCURRENCY,
    tokenPrefix: cluster,
    deadlineMs: 100_000,
  });
  stops.push(
    () => load.stop(),
    () => load.done,
  );
  await waitFor(() => load.answered.size >= TOTAL * 0.3, { timeoutMs: 60_000, what: "30% of the load answered" });
  await server.kill9();
  const answeredBeforeCrash = new Map(load.answered);
  await server.start();
  await load.done;

  // Every caller got an answer in the end; nothing was refused as if it were the caller's fault.
  expect(load.errors.filter((e) => e.kind === "wrong")).toEqual([]);
  expect(load.failures).toEqual([]);
  expect(load.disagreements).toEqual([]);
  expect(load.answered.size).toBe(TOTAL);
  // The crash was felt (some calls failed at the connection) and retried.
  expect(load.errors.some((e) => e.kind === "network")).toBe(true);

  // Everything answered 200 — before the crash too — is there after the restart.
  const arns = [...load.answered.values()];
  const { missing } = await describeAll(server.ecs, cluster, arns);
  expect(missing).toEqual([]);
  for (const [token, arn] of answeredBeforeCrash) expect(load.answered.get(token)).toBe(arn);

  // From the log: one TaskCreated per task, one task per clientToken (a retry across the crash
  // found the first attempt's task), and no task the callers were not told about.
  const logged = await readEventLog(nats.url);
  const created = tasksCreated(logged, cluster);
  expect(created).toHaveLength(TOTAL);
  expect(new Set(created.map((t) => t.subject)).size).toBe(TOTAL);
  expect(new Set(created.map((t) => t.clientToken)).size).toBe(TOTAL);
  expect(new Set(created.map((t) => t.taskArn))).toEqual(new Set(arns));

  // Every task converges, and each was started on exactly the instance it was placed on.
  const tasks = await waitConverged(server.ecs, cluster, arns, 60_000);
  expect(tasks.filter((t) => t.lastStatus !== "RUNNING")).toEqual([]);
  const placedOn = new Map(created.map((t) => [t.taskArn, t.instanceId]));
  for (const instance of fleet.instances) {
    for (const arn of instance.tasks.keys()) expect(placedOn.get(arn)).toBe(instance.instanceId);
  }
  expect(fleet.instances.reduce((n, i) => n + i.tasks.size, 0)).toBe(TOTAL);
});
