import {
  CreateClusterCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { TEST_IMAGE, uniqueName } from "./docker.ts";
import { ecsClient } from "./ecs.ts";
import { freePort } from "./ports.ts";
import { type ManagedProcess, spawnBerth } from "./processes.ts";
import { waitFor } from "./wait.ts";

/**
 * A `berth server` process on a fixed loopback port that a test can kill -9 and start again at
 * the same address, so clients keep one endpoint across the crash.
 */
export interface ServerHandle {
  readonly endpoint: string;
  readonly ecs: ECSClient;
  proc: ManagedProcess | undefined;
  start(): Promise<ManagedProcess>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function serverProcess(o: {
  name: string;
  nats: string | string[];
  args?: string[];
}): Promise<ServerHandle> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const nats = Array.isArray(o.nats) ? o.nats.join(",") : o.nats;
  // One log per run (test-artifacts/<name>-<unique>.log), kept across the restarts of that run.
  const name = uniqueName(o.name);
  const h: ServerHandle = {
    endpoint,
    ecs: ecsClient(endpoint),
    proc: undefined,
    async start() {
      const p = spawnBerth(["server", "--nats", nats, "--port", String(port), ...(o.args ?? [])], {
        name,
        env: { BERTH_LOG_FORMAT: "json", BERTH_LOG_LEVEL: "info" },
      });
      h.proc = p;
      await p.waitForHttp(`${endpoint}/health`, 90_000);
      return p;
    },
    async kill9() {
      await h.proc?.kill9();
    },
    async stop() {
      await h.proc?.stop();
    },
  };
  return h;
}

/** A cluster with a unique name and a one-container task definition that reserves 6 MiB (ECS's minimum). */
export async function chaosCluster(
  ecs: ECSClient,
  prefix: string,
): Promise<{ cluster: string; taskDefinition: string }> {
  const cluster = uniqueName(prefix);
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: cluster,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 6 }],
    }),
  );
  return { cluster, taskDefinition: td.taskDefinition?.taskDefinitionArn as string };
}

export async function waitForInstances(
  ecs: ECSClient,
  cluster: string,
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    async () =>
      ((await ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns?.length ?? 0) >= count,
    { timeoutMs, intervalMs: 200, what: `${count} registered container instances in ${cluster}` },
  );
}

/** DescribeTasks over any number of ARNs (100 per call): the tasks found and the ARNs missing. */
export async function describeAll(
  ecs: ECSClient,
  cluster: string,
  arns: string[],
): Promise<{ tasks: Task[]; missing: string[] }> {
  const tasks: Task[] = [];
  const missing: string[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(out.tasks ?? []));
    missing.push(...(out.failures ?? []).map((f) => f.arn ?? "?"));
  }
  return { tasks, missing };
}

/** Waits until every task's lastStatus is RUNNING or STOPPED. */
export async function waitConverged(
  ecs: ECSClient,
  cluster: string,
  arns: string[],
  timeoutMs: number,
): Promise<Task[]> {
  return waitFor(
    async () => {
      const { tasks, missing } = await describeAll(ecs, cluster, arns);
      const open = tasks.filter((t) => t.lastStatus !== "RUNNING" && t.lastStatus !== "STOPPED");
      if (missing.length > 0 || open.length > 0)
        throw new Error(
          `${missing.length} missing, ${open.length} not converged (e.g. ${open[0]?.taskArn} ${open[0]?.lastStatus})`,
        );
      return tasks;
    },
    { timeoutMs, intervalMs: 500, what: `${arns.length} tasks RUNNING or STOPPED` },
  );
}
