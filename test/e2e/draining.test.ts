import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { type ManagedProcess, spawnBerth } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

let b: BerthFixture;
let agent2: ManagedProcess | undefined;
beforeAll(async () => {
  b = await startBerth("t-drain");
  agent2 = spawnBerth(
    ["agent", "--nats", b.nats.url, "--cluster", b.cluster, "--data-dir", mkdtempSync(join(tmpdir(), "drain2-")), "--name", `${b.cluster}-2`],
    { name: `${b.cluster}-agent2`, env: { BERTH_LOG_FORMAT: "json" } },
  );
  await waitFor(
    async () => ((await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }))).containerInstanceArns?.length === 2 ? true : undefined),
    { timeoutMs: 60_000, what: "two instances" },
  );
});
afterAll(async () => {
  await agent2?.stop().catch(() => {});
  await b?.close();
});

async function tasksOf(serviceName?: string) {
  const arns = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, ...(serviceName ? { serviceName } : {}) }))).taskArns ?? [];
  return arns.length ? ((await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }))).tasks ?? []) : [];
}

test("DRAINING moves service tasks off the instance within the service's bounds, leaves standalone tasks, and never places on it", async () => {
  const td = (
    await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "drain",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 8, stopTimeout: 1 }],
      }),
    )
  ).taskDefinition?.taskDefinitionArn as string;
  await b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: "drain", taskDefinition: td, desiredCount: 2 }));
  const spread = await waitFor(
    async () => {
      const t = (await tasksOf("drain")).filter((x) => x.lastStatus === "RUNNING");
      return t.length === 2 ? t : undefined;
    },
    { timeoutMs: 60_000, what: "2 service tasks RUNNING" },
  );
  const target = spread[0]?.containerInstanceArn as string;
  const standalone = (await b.ecs.send(new StartTaskCommand({ cluster: b.cluster, taskDefinition: td, containerInstances: [target] }))).tasks?.[0];
  expect(standalone).toBeDefined();

  const r = await b.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: b.cluster, containerInstances: [target], status: "DRAINING" }));
  expect(r.containerInstances?.[0]?.status).toBe("DRAINING");

  await waitFor(
    async () => {
      const live = (await tasksOf("drain")).filter((t) => t.lastStatus === "RUNNING");
      const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["drain"] }))).services?.[0];
      return live.length === 2 && live.every((t) => t.containerInstanceArn !== target) && s?.runningCount === 2 ? live : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: "service tasks moved off the draining instance" },
  );
  // A standalone task is untouched by draining.
  const still = (await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [standalone!.taskArn!] }))).tasks?.[0];
  expect(still?.desiredStatus).toBe("RUNNING");
  // Nothing new is placed on a draining instance.
  const more = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: td, count: 4 }));
  expect(more.tasks?.every((t) => t.containerInstanceArn !== target)).toBe(true);
  const d = await b.ecs.send(new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: [target] }));
  expect(d.containerInstances?.[0]?.status).toBe("DRAINING");
});
