import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateServiceCommand, DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { type ManagedProcess, spawnBerth } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

let b: BerthFixture;
let agent2: ManagedProcess | undefined;
beforeAll(async () => {
  b = await startBerth("t-daemon");
});
afterAll(async () => {
  await agent2?.stop().catch(() => {});
  await b?.close();
});

async function daemonTaskInstances() {
  const arns = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: "node-exporter" }))).taskArns ?? [];
  if (arns.length === 0) return [];
  const d = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }));
  return (d.tasks ?? []).filter((t) => t.lastStatus === "RUNNING").map((t) => t.containerInstanceArn);
}

test("a DAEMON service runs one task on every instance, including one that joins later", async () => {
  const td = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "node-exporter",
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 8, stopTimeout: 1 }],
    }),
  );
  const created = await b.ecs.send(
    new CreateServiceCommand({
      cluster: b.cluster,
      serviceName: "node-exporter",
      taskDefinition: td.taskDefinition?.taskDefinitionArn,
      schedulingStrategy: "DAEMON",
    }),
  );
  expect(created.service?.schedulingStrategy).toBe("DAEMON");
  expect(created.service?.deploymentConfiguration).toMatchObject({ maximumPercent: 100, minimumHealthyPercent: 0 });
  await waitFor(async () => ((await daemonTaskInstances()).length === 1 ? true : undefined), { timeoutMs: 60_000, what: "one daemon task" });

  agent2 = spawnBerth(
    ["agent", "--nats", b.nats.url, "--cluster", b.cluster, "--data-dir", mkdtempSync(join(tmpdir(), "daemon2-")), "--name", `${b.cluster}-2`],
    { name: `${b.cluster}-agent2`, env: { BERTH_LOG_FORMAT: "json" } },
  );
  const on = await waitFor(async () => {
    const i = await daemonTaskInstances();
    return i.length === 2 ? i : undefined;
  }, { timeoutMs: 60_000, what: "a daemon task on the new instance" });
  expect(new Set(on).size).toBe(2);
  const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["node-exporter"] }))).services?.[0];
  expect(s?.desiredCount).toBe(2);
  expect(s?.runningCount).toBe(2);
});
