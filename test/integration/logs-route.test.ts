import { CreateClusterCommand, DescribeTasksCommand, type ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type LogsReply, LogsRequest } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/control-plane.ts";
import { LOGS_PATH } from "../../services/control-plane/logs-route.ts";
import { type Fleet, startFleet } from "../../services/sim/fleet.ts";
import { uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The logs route of a real control plane against an agent played here on NATS (the task itself
 * runs on a hollow instance, which serves no logs): a follow relays the agent's stream, one whose
 * reader goes away is cancelled on the agent, and an agent of an earlier version — which answers
 * a follow with the output so far and follows nothing — gets that output and an end, not a hang.
 */

const log = pino({ level: "silent" });
const REGION = "us-east-1";
const cluster = uniqueName("logs");
let nats: NatsServerHandle;
let cpConn: NatsConnection;
let agentConn: NatsConnection;
let cp: ControlPlane;
let ecs: ECSClient;
let fleet: Fleet;
let taskArn: string;
let instanceId: string;
/** What the played agent does with each message on its logs subject. */
let agent: (m: Msg) => void = () => {};

beforeAll(async () => {
  nats = await startNatsServer();
  cpConn = await connect({ servers: nats.url });
  agentConn = await connect({ servers: nats.url });
  cp = await startControlPlane({ nc: cpConn, log, port: 0 });
  ecs = ecsClient(cp.url);
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: "talker", containerDefinitions: [{ name: "app", image: "busybox", memory: 16 }] }),
  );
  fleet = await startFleet({ nc: agentConn, log, region: REGION, cluster, instances: 1 });
  const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: "talker" }));
  taskArn = run.tasks?.[0]?.taskArn as string;
  const running = await waitFor(
    async () => {
      const t = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks?.[0];
      return t?.lastStatus === "RUNNING" ? t : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: "the task RUNNING" },
  );
  instanceId = running.containerInstanceArn?.split("/").pop() as string;
  agentConn.subscribe(subjects.logs(REGION, instanceId), { callback: (_e, m) => agent(m) });
});

afterAll(async () => {
  await fleet?.stop();
  await cp?.stop();
  await agentConn?.close();
  await cpConn?.close();
  await nats?.stop();
});

const followUrl = () => `${cp.url}${LOGS_PATH}?cluster=${cluster}&task=${taskArn.split("/").pop()}&follow=1`;
const reply = (m: Msg, r: LogsReply) => m.respond(JSON.stringify(r));
const lines = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as unknown);

test("a follow relays what the agent streams under its instance, to its end", async () => {
  agent = (m) => {
    const req = LogsRequest.parse(m.json());
    reply(m, { ok: true, container: "app", chunks: [], following: true });
    // Published at once: the route subscribed to the stream before it asked.
    const stream = subjects.logStream(REGION, instanceId, req.streamId as string);
    agentConn.publish(stream, JSON.stringify({ type: "chunk", container: "app", stream: "stdout", data: "one\n" }));
    agentConn.publish(stream, JSON.stringify({ type: "end", reason: "stopped" }));
  };
  const res = await fetch(followUrl(), { signal: AbortSignal.timeout(15_000) });
  expect(res.status).toBe(200);
  expect(lines(await res.text())).toEqual([{ stream: "stdout", data: "one\n" }, { end: "stopped" }]);
});

test("a follow whose reader goes away is cancelled on the agent", async () => {
  const cancels: unknown[] = [];
  let streamId: string | undefined;
  agent = (m) => {
    const body = m.json<Record<string, unknown>>();
    if ("cancel" in body) {
      cancels.push(body);
      return;
    }
    streamId = LogsRequest.parse(body).streamId;
    reply(m, { ok: true, container: "app", chunks: [], following: true });
  };
  const reader = new AbortController();
  const res = await fetch(followUrl(), { signal: reader.signal });
  expect(res.status).toBe(200);
  reader.abort();
  await waitFor(() => cancels.length > 0 || undefined, { timeoutMs: 10_000, intervalMs: 50, what: "the cancel" });
  expect(cancels).toEqual([{ cancel: streamId }]);
});

test("an agent of an earlier version, which does not follow: its output so far, then the end", async () => {
  agent = (m) => reply(m, { ok: true, container: "app", chunks: [{ stream: "stdout", data: "so far\n" }], following: false });
  const res = await fetch(followUrl(), { signal: AbortSignal.timeout(15_000) });
  expect(res.status).toBe(200);
  expect(lines(await res.text())).toEqual([{ stream: "stdout", data: "so far\n" }, { end: "complete" }]);
});
