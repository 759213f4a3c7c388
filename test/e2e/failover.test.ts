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

beforeAll(async () => {
  b = await startBerth("t-failover");
});
afterAll(async () => {
  await second?.stop().catch(() => {});
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

  // The log: every slot placed for the service is distinct, and exactly 10 tasks were ever created.
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
  expect(new Set(slots).size).toBe(slots.length);
  expect(slots).toHaveLength(10);
  expect(new Set(created).size).toBe(10);
  expect(stops).toBe(0);
});
