import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateClusterCommand, DescribeTasksCommand, type ECSClient, ListContainerInstancesCommand, type Task } from "@aws-sdk/client-ecs";
import { removeContainersByLabel, removeNetworksByLabel, uniqueName } from "./docker.ts";
import { ecsClient } from "./ecs.ts";
import { type NatsServerHandle, startNatsServer } from "./nats-server.ts";
import { freePort } from "./ports.ts";
import { type ManagedProcess, spawnBerth } from "./processes.ts";
import { waitFor } from "./wait.ts";

/**
 * A whole Berth for one test file: its own nats-server, a `berth server` process, a cluster with a
 * unique name and a `berth agent` process in it, driven through the real AWS SDK. Docker containers
 * and networks it creates carry the label berth.cluster=<that name>, which is what cleanup removes.
 */
export interface BerthFixture {
  cluster: string;
  endpoint: string;
  nats: NatsServerHandle;
  ecs: ECSClient;
  server: ManagedProcess;
  agent: ManagedProcess;
  startServer(): Promise<ManagedProcess>;
  startAgent(): Promise<ManagedProcess>;
  task(arn: string): Promise<Task>;
  waitTask(arn: string, what: string, ok: (t: Task) => boolean, timeoutMs?: number): Promise<Task>;
  close(): Promise<void>;
}

export async function startBerth(
  prefix: string,
  extraAgentArgs: string[] = [],
  agentEnv: Record<string, string> = {},
): Promise<BerthFixture> {
  const cluster = uniqueName(prefix);
  const nats = await startNatsServer();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `${cluster}-`));
  const ecs = ecsClient(endpoint);
  const env = { BERTH_LOG_FORMAT: "json", BERTH_LOG_LEVEL: "debug" };

  const f: BerthFixture = {
    cluster,
    endpoint,
    nats,
    ecs,
    server: undefined as unknown as ManagedProcess,
    agent: undefined as unknown as ManagedProcess,
    async startServer() {
      // A new task without a health check counts toward minimumHealthyPercent after 2 s, not ECS's
      // 40: deployments and draining still wait for it, in less time.
      const args = ["--lost-agent-timeout", "10", "--count-healthy-after", "2"];
      const p = spawnBerth(["server", "--nats", nats.url, "--port", String(port), ...args], {
        name: `${cluster}-server`,
        env,
      });
      await p.waitForHttp(`${endpoint}/health`, 60_000);
      f.server = p;
      return p;
    },
    async startAgent() {
      const p = spawnBerth(
        ["agent", "--nats", nats.url, "--cluster", cluster, "--data-dir", dataDir, "--name", cluster, ...extraAgentArgs],
        { name: `${cluster}-agent`, env: { ...env, BERTH_CONTAINER_STOP_TIMEOUT: "2", ...agentEnv } },
      );
      f.agent = p;
      return p;
    },
    async task(arn) {
      const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }));
      const t = out.tasks?.[0];
      if (!t) throw new Error(`task ${arn} missing: ${JSON.stringify(out.failures)}`);
      return t;
    },
    waitTask(arn, what, ok, timeoutMs = 60_000) {
      return waitFor(
        async () => {
          const t = await f.task(arn);
          return ok(t) ? t : undefined;
        },
        { timeoutMs, intervalMs: 200, what: `task ${arn.split("/").pop()} ${what}` },
      );
    },
    async close() {
      await f.agent?.stop().catch(() => {});
      await f.server?.stop().catch(() => {});
      await removeContainersByLabel("berth.cluster", cluster).catch(() => {});
      // An awsvpc task's network outlives it when the agent stopped before giving it back.
      await removeNetworksByLabel("berth.cluster", cluster).catch(() => {});
      await nats.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await f.startServer();
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await f.startAgent();
  await waitFor(
    async () => {
      const r = await ecs.send(new ListContainerInstancesCommand({ cluster }));
      return (r.containerInstanceArns?.length ?? 0) > 0 ? r : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: "the agent to register its instance" },
  );
  return f;
}
