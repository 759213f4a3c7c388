import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Envelope } from "../../events/envelope.ts";
import { streams } from "../../events/names.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { freePort } from "../support/ports.ts";
import { type ManagedProcess, spawnBerth } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

let b: BerthFixture;
let second: ManagedProcess | undefined;
let third: ManagedProcess | undefined;

beforeAll(async () => {
  b = await startBerth("t-failover");
});
afterAll(async () => {
  if (second?.running()) process.kill(second.pid, "SIGCONT");
  await second?.stop().catch(() => {});
  await third?.stop().catch(() => {});
  await b?.close();
});

test("with two control planes, kill -9 of the leader during a scale from 2 to 10: the other finishes it and no slot is placed twice", async () => {
  const td = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "fo",
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 8, stopTimeout: 1 }],
    }),
  );
  await b.ecs.send(
    new CreateServiceCommand({ cluster: b.cluster, serviceName: "fo", taskDefinition: td.taskDefinition?.taskDefinitionArn, desiredCount: 2 }),
  );
  const steady = (ecs: typeof b.ecs, n: number) =>
    waitFor(
      async () => {
        const s = (await ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["fo"] }))).services?.[0];
        return s?.runningCount === n && s.pendingCount === 0 ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: `service fo steady at ${n}` },
    );
  await steady(b.ecs, 2);

  // The first server holds the scheduler lease; start a second one, which only serves the API.
  const port = await freePort();
  second = spawnBerth(["server", "--nats", b.nats.url, "--port", String(port)], { name: `${b.cluster}-server2`, env: { BERTH_LOG_FORMAT: "json" } });
  await second.waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);
  const ecs2 = ecsClient(`http://127.0.0.1:${port}`);

  // Pause the leader so the scale cannot finish on it, request the scale, then kill -9 it: the
  // scale is in flight and only the second server can complete it, once the lease expires.
  process.kill(b.server.pid, "SIGSTOP");
  await ecs2.send(new UpdateServiceCommand({ cluster: b.cluster, service: "fo", desiredCount: 10 }));
  await b.server.kill9();
  await steady(ecs2, 10);

  const log = await placementsInLog();
  expect(new Set(log.slots).size).toBe(log.slots.length);
  expect(log.slots).toHaveLength(10);
  expect(new Set(log.created).size).toBe(10);
  expect(log.stops).toBe(0);
  ecs2Endpoint = `http://127.0.0.1:${port}`;
});

let ecs2Endpoint = "";

test("a paused former leader that wakes up after losing its lease does not place", async () => {
  // The second server leads now. Start a third, pause the leader, scale through the third.
  const port = await freePort();
  third = spawnBerth(["server", "--nats", b.nats.url, "--port", String(port)], { name: `${b.cluster}-server3`, env: { BERTH_LOG_FORMAT: "json" } });
  await third.waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);
  const ecs3 = ecsClient(`http://127.0.0.1:${port}`);
  const leader = second as ManagedProcess;
  process.kill(leader.pid, "SIGSTOP");
  await ecs3.send(new UpdateServiceCommand({ cluster: b.cluster, service: "fo", desiredCount: 14 }));
  await waitFor(
    async () => {
      const s = (await ecs3.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["fo"] }))).services?.[0];
      return s?.runningCount === 14 && s.pendingCount === 0 ? s : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, what: "service fo steady at 14 via the third server" },
  );
  // Wake the former leader: it must notice its lease is gone instead of acting on stale state.
  process.kill(leader.pid, "SIGCONT");
  await waitFor(() => (/no longer leads the scheduler/.test(leader.readLog()) ? true : undefined), {
    timeoutMs: 60_000,
    what: "the former leader to step down",
  });
  const ecs2 = ecsClient(ecs2Endpoint);
  const s = (await ecs2.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["fo"] }))).services?.[0];
  expect(s?.runningCount).toBe(14);
  const log = await placementsInLog();
  expect(new Set(log.slots).size).toBe(log.slots.length);
  expect(log.slots).toHaveLength(14);
  expect(new Set(log.created).size).toBe(14);
  expect(log.stops).toBe(0);
});

/** Every slot the scheduler recorded for service fo, every task created for it, and every stop, from the log. */
async function placementsInLog() {
  const nc = await connect({ servers: b.nats.url });
  const consumer = await jetstream(nc).consumers.get(streams.events, { deliver_policy: DeliverPolicy.All });
  const slots: string[] = [];
  const created: string[] = [];
  let stops = 0;
  for await (const m of await consumer.fetch({ max_messages: 100_000, expires: 2_000 })) {
    const env = m.json<Envelope>();
    if (env.type === "ServiceTasksPlaced") slots.push(...(env.data as unknown as { tasks: { taskId: string }[] }).tasks.map((t) => t.taskId));
    if (env.type === "TaskCreated" && (env.data as { group?: string }).group === "service:fo") created.push(env.subject);
    if (env.type === "TaskStopRequested") stops++;
    if (m.info.pending === 0) break;
  }
  await nc.close();
  return { slots, created, stops };
}
