import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { awsCli } from "../support/aws-cli.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";

let b: BerthFixture;
beforeAll(async () => {
  b = await startBerth("t-cli");
});
afterAll(async () => {
  await b?.close();
});

test("the AWS CLI v2 creates a cluster, registers a task definition from a file, runs a task and waits for it to stop", async () => {
  const opts = { endpoint: b.endpoint };
  const created = await awsCli(["ecs", "create-cluster", "--cluster-name", b.cluster], opts);
  expect(created.code, created.stderr).toBe(0);
  expect((created.json as { cluster: { status: string } }).cluster.status).toBe("ACTIVE");

  const dir = mkdtempSync(join(tmpdir(), "berth-cli-"));
  const file = join(dir, "td.json");
  writeFileSync(
    file,
    JSON.stringify({
      family: "cli-exit",
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sh", "-c", "exit 7"], memory: 32 }],
    }),
  );
  const registered = await awsCli(["ecs", "register-task-definition", "--cli-input-json", `file://${file}`], opts);
  expect(registered.code, registered.stderr).toBe(0);
  const td = (registered.json as { taskDefinition: { taskDefinitionArn: string; revision: number } }).taskDefinition;
  expect(td.revision).toBe(1);

  const ran = await awsCli(["ecs", "run-task", "--cluster", b.cluster, "--task-definition", "cli-exit"], opts);
  expect(ran.code, ran.stderr).toBe(0);
  const taskArn = (ran.json as { tasks: { taskArn: string }[] }).tasks[0]?.taskArn as string;
  expect(taskArn).toMatch(/^arn:aws:ecs:us-east-1:\d{12}:task\//);

  const waited = await awsCli(["ecs", "wait", "tasks-stopped", "--cluster", b.cluster, "--tasks", taskArn], { ...opts, timeoutMs: 120_000 });
  expect(waited.code, waited.stderr).toBe(0);

  const described = await awsCli(["ecs", "describe-tasks", "--cluster", b.cluster, "--tasks", taskArn], opts);
  const task = (described.json as { tasks: { lastStatus: string; containers: { exitCode: number }[] }[] }).tasks[0];
  expect(task?.lastStatus).toBe("STOPPED");
  expect(task?.containers[0]?.exitCode).toBe(7);

  const missing = await awsCli(["ecs", "describe-clusters", "--clusters", "no-such-cluster-xyz"], opts);
  expect(missing.code).toBe(0);
  expect((missing.json as { failures: { reason: string }[] }).failures[0]?.reason).toBe("MISSING");
  const error = await awsCli(["ecs", "stop-task", "--cluster", "no-such-cluster-xyz", "--task", "abc"], opts);
  expect(error.code).toBe(254);
  expect(error.stderr).toContain("ClusterNotFoundException");
});
