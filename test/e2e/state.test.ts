// Time travel: `berth state --at` rebuilds the cluster from the event log alone, and what it shows
// for a point between two events is what DescribeTasks said at that point.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type Task } from "@aws-sdk/client-ecs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { streams } from "../../events/names.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { BERTH_BIN, REPO_ROOT } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);

let b: BerthFixture;
let nc: NatsConnection;

async function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BERTH_BIN, ...args, "--nats", b.nats.url], { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

async function stateJson(at: string) {
  const r = await berth(["state", "--at", at, "--json", "--cluster", b.cluster, "--all"]);
  if (r.code !== 0) throw new Error(`berth state --at ${at} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { sequence: number; time: string; tasks: Task[]; services: unknown[]; clusters: { clusterName: string }[] };
}

/** The SDK's Task as JSON, as the CLI prints the API's answers (Dates as ISO 8601). */
const asJson = (t: Task) => JSON.parse(JSON.stringify(t));

async function lastSeq(): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(streams.events)).state.last_seq;
}

beforeAll(async () => {
  b = await startBerth("t-state");
  nc = await connect({ servers: b.nats.url });
});
afterAll(async () => {
  await nc?.close();
  await b?.close();
});

test("state --at a time or sequence between two events is what DescribeTasks said then", async () => {
  const td = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${b.cluster}-sleeper`,
      containerDefinitions: [{ name: "main", image: TEST_IMAGE, command: ["sleep", "600"], memory: 16, stopTimeout: 1 }],
    }),
  );
  const started = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: td.taskDefinition?.taskDefinitionArn }));
  const arn = started.tasks?.[0]?.taskArn as string;
  await b.waitTask(arn, "RUNNING", (t) => t.lastStatus === "RUNNING");
  // Nothing else happens to this task until StopTask: this answer holds from seqThen to the stop.
  const seqThen = await lastSeq();
  const then = await b.task(arn);
  const at = Date.now();
  // The next event must be stored after `at`: wait for the clock to pass it (the stream stamps in ns).
  await waitFor(() => Date.now() > at, { timeoutMs: 1_000, intervalMs: 1, what: "the clock to pass the chosen instant" });

  await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn, reason: "time travel test" }));
  const stopped = await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");

  const byTime = await stateJson(new Date(at).toISOString());
  expect(byTime.tasks.find((t) => t.taskArn === arn)).toEqual(asJson(then));
  expect(byTime.sequence).toBeGreaterThanOrEqual(seqThen);
  expect(Date.parse(byTime.time)).toBeLessThanOrEqual(at);

  const bySeq = await stateJson(String(seqThen));
  expect(bySeq.sequence).toBe(seqThen);
  expect(bySeq.tasks.find((t) => t.taskArn === arn)).toEqual(asJson(then));

  // Now (the end of the log) is what DescribeTasks says now.
  const now = await stateJson("now");
  expect(now.tasks.find((t) => t.taskArn === arn)).toEqual(asJson(stopped));

  // Before the task existed, the cluster did but the task did not.
  const created = (byTime.tasks.find((t) => t.taskArn === arn) as Task).createdAt as unknown as string;
  const before = await stateJson(new Date(Date.parse(created) - 1).toISOString());
  expect(before.clusters.map((c) => c.clusterName)).toEqual([b.cluster]);
  expect(before.tasks.find((t) => t.taskArn === arn)).toBeUndefined();

  // The table: the task RUNNING at the sequence, hidden (STOPPED) at the end unless --all.
  const table = await berth(["state", "--at", String(seqThen), "--cluster", b.cluster]);
  expect(table.code, table.stderr).toBe(0);
  expect(table.stdout).toContain(`State at sequence ${seqThen}: after event ${seqThen}`);
  const taskId = arn.split("/").pop() as string;
  expect(table.stdout).toMatch(new RegExp(`^${b.cluster}\\s+${taskId}\\s+${b.cluster}-sleeper:1\\s+RUNNING/RUNNING`, "m"));
  const end = await berth(["state", "--cluster", b.cluster]);
  expect(end.stdout).not.toContain(taskId);
  const endAll = await berth(["state", "--cluster", b.cluster, "--all"]);
  expect(endAll.stdout).toMatch(new RegExp(`${taskId}\\s+${b.cluster}-sleeper:1\\s+STOPPED/STOPPED`));
}, 180_000);

test("state --at past the end of the log fails (exit 1); a bad --at is a usage error (exit 2)", async () => {
  const past = await berth(["state", "--at", String((await lastSeq()) + 1000)]);
  expect(past.code).toBe(1);
  expect(past.stderr).toMatch(/berth state: the log ends at sequence \d+/);
  const bad = await berth(["state", "--at", "yesterday-ish"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--at takes a sequence number");
});
