import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeTasksCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { labels } from "../../events/agent.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { dockerodePort } from "../../services/agent/docker/dockerode.ts";
import { chaosCluster, type ServerHandle, serverProcess, waitForInstances } from "../support/chaos-world.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import {
  canRunPrivateDockerd,
  createPrivateDockerd,
  loadTestImage,
  type PrivateDockerd,
} from "../support/private-dockerd.ts";
import { ARTIFACTS_DIR } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

// Fault: the Docker engine under an agent restarts (stopped, then started again with the same
// flags), and a container dies while it is down. Guarantee: the agent recovers by itself — its
// event stream reconnects and it re-inspects every container — and reports the truth: the
// container that died is STOPPED with its exit code, the ones still running stay RUNNING, and a
// task placed while the engine was away starts once it is back.
//
// The engine is a private dockerd (test/support/private-dockerd.ts), never the machine's shared
// one, so the test harms no one else's containers and runs wherever root can start a dockerd.

let nats: NatsServerHandle;
let server: ServerHandle;
let engine: PrivateDockerd | undefined;
let nc: NatsConnection | undefined;
let agent: Agent | undefined;
let dataDir: string | undefined;

const RUNNING = (t: Task) => t.lastStatus === "RUNNING";

beforeAll(async () => {
  if (!canRunPrivateDockerd()) return;
  nats = await startNatsServer();
  server = await serverProcess({ name: "chaos-docker-server", nats: nats.url });
  await server.start();
  engine = await createPrivateDockerd(uniqueName("chaos-docker"));
  await engine.start();
  await loadTestImage(engine.docker);
});
afterAll(async () => {
  await agent?.stop();
  await nc?.close();
  await engine?.destroy();
  await server?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test.skipIf(!canRunPrivateDockerd())(
  "the Docker engine restarts under an agent: the agent reconnects, a container that died meanwhile is STOPPED, running ones stay RUNNING",
  { timeout: 150_000 },
  async () => {
    const docker = (engine as PrivateDockerd).docker;
    const { cluster } = await chaosCluster(server.ecs, "chaos-docker");
    const td = await server.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${cluster}-sleep`,
        networkMode: "none",
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 1 },
        ],
      }),
    );
    const taskDefinition = td.taskDefinition?.taskDefinitionArn as string;

    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
    dataDir = mkdtempSync(join(tmpdir(), `${cluster}-`));
    agent = await startAgent({
      taskCleanupWaitMs: 0,
      nc,
      logger: pino(
        { level: "debug" },
        pino.destination({ dest: join(ARTIFACTS_DIR, `${cluster}-agent.log`), sync: true }),
      ),
      region: "us-east-1",
      cluster,
      dataDir,
      name: cluster,
      docker: dockerodePort({ socketPath: (engine as PrivateDockerd).socketPath }),
      heartbeatIntervalMs: 1_000,
      statsIntervalMs: 0,
      stopTimeoutSeconds: 1,
      imagePullBehavior: "prefer-cached",
    });
    await waitForInstances(server.ecs, cluster, 1);

    const run = async (ecs: ECSClient) =>
      (await ecs.send(new RunTaskCommand({ cluster, taskDefinition }))).tasks?.[0]?.taskArn as string;
    const task = async (arn: string) => {
      const out = await server.ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }));
      return out.tasks?.[0] as Task;
    };
    const waitTask = (arn: string, what: string, ok: (t: Task) => boolean, timeoutMs = 60_000) =>
      waitFor(async () => ((t) => (ok(t) ? t : undefined))(await task(arn)), {
        timeoutMs,
        intervalMs: 250,
        what: `task ${arn.split("/").pop()} ${what}`,
      });
    const containerOf = async (arn: string) => {
      const [c] = await docker.listContainers({ all: true, filters: { label: [`${labels.taskArn}=${arn}`] } });
      if (!c) throw new Error(`no container for ${arn}`);
      return docker.getContainer(c.Id);
    };

    const keeps = await run(server.ecs);
    const dies = await run(server.ecs);
    await waitTask(keeps, "RUNNING", RUNNING);
    await waitTask(dies, "RUNNING", RUNNING);
    const victimPid = (await (await containerOf(dies)).inspect()).State.Pid;
    expect(victimPid).toBeGreaterThan(0);

    // The engine goes away; a container dies while it is away; a task is placed meanwhile.
    await (engine as PrivateDockerd).stop();
    process.kill(victimPid, "SIGKILL");
    const during = await run(server.ecs);
    await (engine as PrivateDockerd).start();

    // The truth, once the engine is back: the dead container is reported STOPPED (exit 137),
    // the live one stays RUNNING, the task placed during the outage starts.
    const dead = await waitTask(dies, "STOPPED after the engine restart", (t) => t.lastStatus === "STOPPED");
    expect(dead.containers?.[0]?.exitCode).toBe(137);
    expect(dead.stopCode).toBe("EssentialContainerExited");
    await waitTask(during, "RUNNING once the engine is back", RUNNING, 90_000);
    expect((await task(keeps)).lastStatus).toBe("RUNNING");
    expect((await (await containerOf(keeps)).inspect()).State.Running).toBe(true);

    // The event stream is live again (not only the repair listing): an exit now is seen as it happens.
    await (await containerOf(keeps)).kill({ signal: "SIGKILL" });
    const killed = await waitTask(
      keeps,
      "STOPPED after a kill on the restarted engine",
      (t) => t.lastStatus === "STOPPED",
      30_000,
    );
    expect(killed.containers?.[0]?.exitCode).toBe(137);
  },
);
