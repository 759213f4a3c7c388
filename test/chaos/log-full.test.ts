import {
  CreateClusterCommand,
  DescribeClustersCommand,
  type ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Envelope } from "../../events/envelope.ts";
import { streams } from "../../events/names.ts";
import {
  chaosCluster,
  describeAll,
  type ServerHandle,
  serverProcess,
  waitConverged,
  waitForInstances,
} from "../support/chaos-world.ts";
import { uniqueName } from "../support/docker.ts";
import { readEventLog, tasksCreated } from "../support/event-log.ts";
import { type HollowFleet, startHollowFleet } from "../support/hollow-fleet.ts";
import { withJsm } from "../support/nats-cluster.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

// Fault: JetStream's storage is used up (a nats-server whose max_file_store the log outgrows — a
// full disk, as far as Berth can tell). Guarantee: writes fail with a clear ECS error
// (ServerException, "the event log is full") and store nothing; nothing is lost or corrupted —
// reads and a full replay still work, no event is dropped to make room; and writes resume by
// themselves once there is room again (the limit raised, nats-server restarted on its store).

/** JetStream storage for the whole server: room for a few dozen tasks, so filling it takes seconds. */
const LIMIT = 192 * 1024;
/** More calls than LIMIT can hold, so the loops below always end at the limit. */
const MAX_CALLS = 1_000;

let nats: NatsServerHandle;
let server: ServerHandle;
let fleet: HollowFleet | undefined;
let confDir: string;
const setStorageLimit = (bytes: number) =>
  writeFileSync(
    join(confDir, "nats.conf"),
    `jetstream { max_file_store: ${bytes}, max_memory_store: ${16 * 1024 * 1024} }\n`,
  );

beforeAll(async () => {
  confDir = mkdtempSync(join(tmpdir(), "chaos-log-full-"));
  setStorageLimit(LIMIT);
  nats = await startNatsServer({ args: ["-c", join(confDir, "nats.conf")] });
  server = await serverProcess({ name: "chaos-log-full-server", nats: nats.url });
  await server.start();
});
afterAll(async () => {
  await fleet?.close();
  await server?.stop();
  await nats?.stop();
  rmSync(confDir, { recursive: true, force: true });
});

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: e.name,
      status: e.$metadata?.httpStatusCode,
      message: e.message,
    }),
  );
const FULL = { name: "ServerException", status: 500, message: expect.stringMatching(/event log is full/) };
const streamState = () => withJsm([nats.url], async (jsm) => (await jsm.streams.info(streams.events)).state);

test("JetStream storage used up: writes refused with ServerException, nothing lost or corrupted, writes resume when there is room", {
  timeout: 120_000,
}, async () => {
  const { cluster, taskDefinition } = await chaosCluster(server.ecs, "chaos-full");
  fleet = await startHollowFleet({ servers: nats.url, cluster, count: 2 });
  await waitForInstances(server.ecs, cluster, 2);

  // Fill the log with tasks, one call at a time, until a call is refused.
  const run = (ecs: ECSClient, token: string) =>
    ecs.send(new RunTaskCommand({ cluster, taskDefinition, clientToken: token }));
  const answered: string[] = [];
  let refused: Awaited<ReturnType<typeof refusal>>;
  let token = "";
  for (let i = 0; i < MAX_CALLS && !refused; i++) {
    token = `${cluster}-${i}`;
    refused = await refusal(run(server.ecs, token).then((out) => answered.push(out.tasks?.[0]?.taskArn as string)));
  }
  expect(refused).toEqual(FULL);
  expect(answered.length).toBeGreaterThan(0);

  // Near the limit a small event may still fit where a large one did not: writes either succeed
  // whole or are refused with the same error and leave no trace. Small writes (clusters) go on
  // until one is refused too; then the large one is refused again.
  let refusedCluster: string | undefined;
  for (let i = 0; i < MAX_CALLS && !refusedCluster; i++) {
    const name = uniqueName("chaos-full-c");
    const r = await refusal(server.ecs.send(new CreateClusterCommand({ clusterName: name })));
    if (r) {
      expect(r).toEqual(FULL);
      refusedCluster = name;
    }
  }
  expect(refusedCluster).toBeDefined();
  expect(
    (await server.ecs.send(new DescribeClustersCommand({ clusters: [refusedCluster as string] }))).failures?.[0]
      ?.reason,
  ).toBe("MISSING");
  expect(await refusal(run(server.ecs, token))).toEqual(FULL);
  // Reads go on: every task answered before the limit is there.
  expect((await describeAll(server.ecs, cluster, answered)).missing).toEqual([]);
  expect((await server.ecs.send(new ListTasksCommand({ cluster, maxResults: 100 }))).taskArns?.length).toBe(
    Math.min(answered.length, 100),
  );

  // Nothing was dropped to make room, and a full replay works: kill -9 and start again, still full.
  const full = await streamState();
  expect(full.first_seq).toBe(1);
  expect(full.messages).toBe(full.last_seq);
  await server.kill9();
  await server.start();
  const replayed = await describeAll(server.ecs, cluster, answered);
  expect(replayed.missing).toEqual([]);
  expect(replayed.tasks.every((t) => t.desiredStatus === "RUNNING")).toBe(true);
  // Every stored event is whole: in sequence, and each a valid envelope.
  const log = await readEventLog(nats.url);
  expect(log.map((e) => e.seq)).toEqual(Array.from({ length: full.last_seq }, (_, i) => i + 1));
  for (const e of log) expect(Envelope.safeParse(e.envelope).success).toBe(true);

  // Room returns (the limit raised, nats-server restarted on the same store): writes resume on
  // the running control plane, the refused call succeeds when retried with its clientToken, and
  // the observations refused meanwhile are folded, so every task converges.
  const retried: string[] = [];
  setStorageLimit(LIMIT * 64);
  await nats.restart();
  await waitFor(
    async () => {
      await run(server.ecs, token).then((out) => retried.push(out.tasks?.[0]?.taskArn as string));
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: "the refused RunTask answered once there is room" },
  );
  answered.push(retried[0] as string);
  await server.ecs.send(new CreateClusterCommand({ clusterName: refusedCluster }));
  await server.ecs.send(new StopTaskCommand({ cluster, task: answered[0] }));
  // The stopped task must reach STOPPED (RUNNING also counts as converged, so wait for it first).
  await waitFor(
    async () => {
      const { tasks: now } = await describeAll(server.ecs, cluster, [answered[0] as string]);
      return now[0]?.lastStatus === "STOPPED" ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: "the stopped task STOPPED" },
  );
  const tasks = await waitConverged(server.ecs, cluster, answered, 30_000);
  expect(tasks.filter((t) => t.lastStatus !== "RUNNING").map((t) => t.taskArn)).toEqual([answered[0]]);
  // The call refused at the limit, then retried, made one task.
  const created = tasksCreated(await readEventLog(nats.url), cluster);
  expect(created.filter((t) => t.clientToken === token)).toHaveLength(1);
  expect(created).toHaveLength(answered.length);
});
