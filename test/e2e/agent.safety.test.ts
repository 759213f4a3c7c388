import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerName, labels } from "../../events/agent.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { type AgentDriver, startAgentDriver, taskSpec } from "../support/agent-driver.ts";
import { dockerClient, removeContainersByLabel } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Host access: privileged containers, the host network mode and host bind mounts run only on an
 * agent that allows them. Two agents on one Docker engine: `strict` with the defaults (all
 * refused) and `open` with every `allow…` option set.
 */

const docker = dockerClient();
const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "silent" });

let driver: AgentDriver;
let dataDir: string;
let hostDir: string;
let strict: Agent;
let open: Agent;

const containersOf = (taskArn: string) =>
  docker.listContainers({ all: true, filters: { label: [`${labels.taskArn}=${taskArn}`] } });
const gone = (taskArn: string) =>
  waitFor(async () => (await containersOf(taskArn)).length === 0, { timeoutMs: 20_000, what: `no container of ${taskArn}` });

beforeAll(async () => {
  driver = await startAgentDriver();
  dataDir = mkdtempSync(join(tmpdir(), "berth-agent-safety-"));
  hostDir = mkdtempSync(join(tmpdir(), "berth-safety-bind-"));
  const common = { nc: driver.nc, region: driver.region, cluster: driver.cluster, dataDir, logger, stopTimeoutSeconds: 2, statsIntervalMs: 0 };
  strict = await startAgent({ taskCleanupWaitMs: 0, ...common, name: "strict", imagePullBehavior: "prefer-cached" });
  open = await startAgent({
    taskCleanupWaitMs: 0,
    ...common,
    name: "open",
    imagePullBehavior: "prefer-cached",
    allowPrivileged: true,
    allowHostNetwork: true,
    allowHostMounts: true,
  });
});

afterAll(async () => {
  await strict?.stop();
  await open?.stop();
  if (driver) await removeContainersByLabel(labels.cluster, driver.cluster);
  await driver?.close();
  for (const d of [dataDir, hostDir]) if (d) rmSync(d, { recursive: true, force: true });
});

const cases: { what: string; flag: string; reason: RegExp; spec: () => TaskRuntimeSpec }[] = [
  {
    what: "privileged container",
    flag: "--allow-privileged",
    reason: /^CannotCreateContainerError: privileged containers are disabled on this container instance \(berth agent --allow-privileged\)$/,
    spec: () => taskSpec({ cluster: driver.cluster, containers: [{ name: "c", command: ["sleep", "300"], privileged: true }] }),
  },
  {
    what: "host network mode",
    flag: "--allow-host-network",
    reason: /^CannotCreateContainerError: the host network mode is disabled on this container instance \(berth agent --allow-host-network\)$/,
    spec: () => taskSpec({ cluster: driver.cluster, networkMode: "host", containers: [{ name: "c", command: ["sleep", "300"] }] }),
  },
  {
    what: "host bind mount",
    flag: "--allow-host-mounts",
    reason: /^CannotCreateContainerError: host bind mounts \(volume hostdir: .+\) are disabled on this container instance \(berth agent --allow-host-mounts\)$/,
    spec: () =>
      taskSpec({
        cluster: driver.cluster,
        volumes: [{ name: "hostdir", host: { sourcePath: hostDir } }],
        containers: [{ name: "c", command: ["sleep", "300"], mountPoints: [{ sourceVolume: "hostdir", containerPath: "/host" }] }],
      }),
  },
];

describe("host access the agent has not allowed", () => {
  it.each(cases)("$what: refused with a reason naming $flag, nothing created", async ({ spec, reason }) => {
    const s = spec();
    await driver.startTask(strict.instanceId, s);
    const stopped = await driver.waitForContainer(s.taskArn, "c", (o) => o.status === "STOPPED");
    expect(stopped.reason).toMatch(reason);
    expect(stopped.runtimeId).toBeUndefined();
    expect(driver.containerObservations(s.taskArn, "c").map((o) => o.status)).toEqual(["STOPPED"]);
    expect(await containersOf(s.taskArn)).toEqual([]);
  });

  it("the same tasks run on an agent that allows them", async () => {
    const [priv, host, bind] = cases.map((c) => c.spec()) as [TaskRuntimeSpec, TaskRuntimeSpec, TaskRuntimeSpec];
    for (const s of [priv, host, bind]) await driver.startTask(open.instanceId, s);
    for (const s of [host, bind]) await driver.waitForContainer(s.taskArn, "c", (o) => o.status === "RUNNING");
    const inspect = (s: TaskRuntimeSpec) => docker.getContainer(containerName(s.taskId, "c")).inspect();
    // An engine that itself runs unprivileged (Docker in a container) cannot start a privileged
    // container; what the agent controls is that Docker was asked for one, not refused.
    const p = await driver.waitForContainer(priv.taskArn, "c", (o) => o.status !== "PENDING");
    if (p.status === "RUNNING") expect((await inspect(priv)).HostConfig.Privileged).toBe(true);
    else expect(p).toMatchObject({ runtimeId: expect.any(String), reason: expect.stringMatching(/^CannotStartContainerError: (?!.*disabled on this container instance)/) });
    expect((await inspect(host)).HostConfig.NetworkMode).toBe("host");
    expect((await inspect(bind)).Mounts?.find((m) => m.Destination === "/host")).toMatchObject({ Type: "bind", Source: hostDir });
    for (const s of [priv, host, bind]) await driver.stopTask(open.instanceId, s);
    for (const s of [priv, host, bind]) await gone(s.taskArn);
  });
});
