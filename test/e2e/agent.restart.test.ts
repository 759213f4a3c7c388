import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labels } from "../../events/agent.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { TaskRecord } from "../../services/agent/state.ts";
import { type AgentDriver, startAgentDriver, taskSpec } from "../support/agent-driver.ts";
import { removeContainersByLabel } from "../support/docker.ts";

/**
 * ECS container restart policy. The task definition API allows restartAttemptPeriod ≥ 60 s; the
 * agent applies whatever period the definition carries, so these specs use 1 s and containers
 * that run 2 s to keep the test short.
 */

const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "silent" });
const AGENT_NAME = "restart";

let driver: AgentDriver;
let dataDir: string;
let agent: Agent;

const record = (taskId: string) =>
  TaskRecord.parse(JSON.parse(readFileSync(join(dataDir, `agent-${AGENT_NAME}`, "tasks", `${taskId}.json`), "utf8")));

beforeAll(async () => {
  driver = await startAgentDriver();
  dataDir = mkdtempSync(join(tmpdir(), "berth-agent-restart-"));
  agent = await startAgent({
    taskCleanupWaitMs: 0,
    nc: driver.nc,
    region: driver.region,
    cluster: driver.cluster,
    dataDir,
    logger,
    name: AGENT_NAME,
    stopTimeoutSeconds: 2,
    statsIntervalMs: 0,
    imagePullBehavior: "prefer-cached",
  });
});

afterAll(async () => {
  await agent?.stop();
  if (driver) await removeContainersByLabel(labels.cluster, driver.cluster);
  await driver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("restartPolicy", () => {
  it("restarts an exited container in place until it exits with an ignored code; the control plane only sees the end", async () => {
    // Run 1 and 2 fail with 3 after 2 s; run 3 finds both marks in its own (kept) file system and exits 0.
    const script = "[ -f /tmp/b ] && exit 0; if [ -f /tmp/a ]; then touch /tmp/b; else touch /tmp/a; fi; sleep 2; exit 3";
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        {
          name: "flaky",
          command: ["sh", "-c", script],
          restartPolicy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 1 },
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "flaky", (o) => o.status === "STOPPED", 60_000);
    expect(stopped.exitCode).toBe(0);
    const seen = driver.containerObservations(spec.taskArn, "flaky");
    expect(seen.filter((o) => o.status === "STOPPED")).toHaveLength(1);
    expect(new Set(seen.map((o) => o.runtimeId))).toEqual(new Set([stopped.runtimeId])); // one container, restarted
    expect(record(spec.taskId).containers.flaky?.restartCount).toBe(2);
  });

  it("leaves a container that exits before the restart attempt period stopped", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "fast", command: ["sh", "-c", "exit 4"], restartPolicy: { enabled: true, restartAttemptPeriod: 60 } }],
    });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "fast", (o) => o.status === "STOPPED");
    expect(stopped.exitCode).toBe(4);
    expect(record(spec.taskId).containers.fast?.restartCount).toBeUndefined();
  });
});
