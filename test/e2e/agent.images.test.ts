import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labels } from "../../events/agent.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { type AgentDriver, startAgentDriver, taskSpec } from "../support/agent-driver.ts";
import { dockerClient, removeContainersByLabel, TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/ports.ts";
import { type ManagedProcess, spawnProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);
const docker = dockerClient();
const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "silent" });

let driver: AgentDriver;
let dataDir: string;
let registryDir: string;
let registry: ManagedProcess | undefined;
let agent: Agent;
let image: string;
let pushedDigest: string;

beforeAll(async () => {
  driver = await startAgentDriver();
  dataDir = mkdtempSync(join(tmpdir(), "berth-agent-img-"));
  registryDir = mkdtempSync(join(tmpdir(), "berth-registry-"));
  const port = await freePort();
  const config = join(registryDir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(registryDir, "data")}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
    ].join("\n"),
  );
  registry = spawnProcess("docker-registry", ["serve", config], { name: `${driver.cluster}-registry` });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok, {
    timeoutMs: 15_000,
    what: "the registry",
  });
  // Docker treats 127.0.0.0/8 registries as insecure (plain HTTP) by default.
  image = `127.0.0.1:${port}/${driver.cluster}/busybox:v1`;
  await run("docker", ["tag", TEST_IMAGE, image]);
  const pushed = await run("docker", ["push", image]);
  pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1] ?? "";
  await run("docker", ["rmi", image]); // only the tag: the pull must fetch it
  agent = await startAgent({
    taskCleanupWaitMs: 0,
    nc: driver.nc,
    region: driver.region,
    cluster: driver.cluster,
    dataDir,
    logger,
    stopTimeoutSeconds: 2,
  });
});

afterAll(async () => {
  await agent?.stop();
  if (driver) await removeContainersByLabel(labels.cluster, driver.cluster);
  if (image)
    await docker
      .getImage(image)
      .remove()
      .catch(() => {});
  await registry?.stop();
  await driver?.close();
  for (const d of [dataDir, registryDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe("agent image pulls", () => {
  it("pulls a missing image from a registry and reports its repository digest and pull times", async () => {
    expect(pushedDigest).toMatch(/^sha256:/);
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "p", image, command: ["sh", "-c", "exit 0"] }],
    });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "p", (o) => o.status === "STOPPED");
    expect(stopped.exitCode).toBe(0);
    expect(stopped.imageDigest).toBe(pushedDigest);
    expect(stopped.pullStartedAt).toBeTypeOf("number");
    expect(stopped.pullStoppedAt).toBeGreaterThanOrEqual(stopped.pullStartedAt ?? Number.POSITIVE_INFINITY);
    expect((await docker.getImage(image).inspect()).RepoDigests).toContain(
      `${image.replace(/:v1$/, "")}@${pushedDigest}`,
    );
  });

  it("falls back to the cached image when the registry is unreachable (ECS's default pull behaviour)", async () => {
    await registry?.stop();
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "c", image, command: ["sh", "-c", "exit 5"] }],
    });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "c", (o) => o.status === "STOPPED");
    expect(stopped.exitCode).toBe(5);
    expect(stopped.reason).toBeUndefined();
    expect(stopped.imageDigest).toBe(pushedDigest);
  });
});
