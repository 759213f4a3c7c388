import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { labels } from "../../events/agent.ts";
import { removeContainersByLabel, TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { freePort } from "../support/ports.ts";
import { BERTH_BIN, type ManagedProcess, REPO_ROOT, spawnBerth } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/**
 * `berth up` with its generated NATS users: the local agent, connected as its own restricted user,
 * registers, receives a directive, runs a container and reports it; nobody gets in without a user;
 * `berth events` reads the log as the reader; `berth logs --follow` streams output the agent publishes.
 */

const run = promisify(execFile);
let dir: string;
let up: ManagedProcess;
let endpoint: string;
let natsUrl: string;

beforeAll(async () => {
  const name = uniqueName("t-up-sec");
  dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const [port, natsPort] = [await freePort(), await freePort()];
  endpoint = `http://127.0.0.1:${port}`;
  natsUrl = `nats://127.0.0.1:${natsPort}`;
  up = spawnBerth(["up", "--data-dir", dir, "--port", String(port), "--nats-port", String(natsPort)], {
    name: `${name}-up`,
    env: { BERTH_LOG_FORMAT: "json", BERTH_NATS_URL: undefined, BERTH_CREDENTIALS_FILE: undefined },
  });
  await up.waitForHttp(`${endpoint}/health`, 90_000);
});

afterAll(async () => {
  await up?.stop();
  if (dir) {
    const users = JSON.parse(readFileSync(join(dir, "security", "nats-users.json"), "utf8"));
    const instanceId = users.agents?.default?.instanceId as string | undefined;
    if (instanceId) await removeContainersByLabel(labels.instanceId, instanceId).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the local agent runs a task through its restricted NATS user", async () => {
  const ecs = ecsClient(endpoint);
  const users = JSON.parse(readFileSync(join(dir, "security", "nats-users.json"), "utf8"));
  const instanceId = users.agents.default.instanceId as string;
  const instances = await waitFor(
    async () => (await ecs.send(new ListContainerInstancesCommand({ cluster: "default" }))).containerInstanceArns?.[0],
    { timeoutMs: 60_000, intervalMs: 200, what: "the local agent to register" },
  );
  expect(instances.endsWith(`/${instanceId}`)).toBe(true);

  const family = uniqueName("upsec");
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sh", "-c", "exit 3"], memory: 16 }],
    }),
  );
  const run = await ecs.send(new RunTaskCommand({ cluster: "default", taskDefinition: family }));
  const taskArn = run.tasks?.[0]?.taskArn as string;
  expect(taskArn, JSON.stringify(run.failures)).toBeTruthy();
  const stopped = await waitFor(
    async () => {
      const t = (await ecs.send(new DescribeTasksCommand({ cluster: "default", tasks: [taskArn] }))).tasks?.[0];
      return t?.lastStatus === "STOPPED" ? t : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: "the task to run and stop" },
  );
  expect(stopped.containers?.[0]?.exitCode).toBe(3);
  // The local agent is in a zone, <region>a by default, as an EC2 instance would be.
  expect(stopped.availabilityZone).toBe("us-east-1a");
  // nats-server's refusals reach berth up's log at its default level (logNatsLine).
  expect(up.readLog()).not.toMatch(/(Publish|Subscription) Violation/);
});

test("the embedded NATS lets no one in without a user, and berth up's log says so", async () => {
  await expect(connect({ servers: natsUrl, reconnect: false })).rejects.toThrow(/Authorization Violation/);
  const refused = (l: string) =>
    l.includes('"level":50') && l.includes('"msg":"nats-server"') && l.includes("authentication error");
  await waitFor(() => up.readLog().split("\n").some(refused) || undefined, {
    timeoutMs: 5_000,
    intervalMs: 100,
    what: "nats-server's refusal in berth up's log",
  });
});

test("berth events reads the log as the reader user, run as berth up's banner says", async () => {
  // Its NATS port and data directory are not the defaults: the banner's command names them.
  const flags = /Follow the event log: {2}npx berth events --follow (.*)$/m.exec(up.readLog())?.[1];
  expect(flags).toBe(`--nats ${natsUrl} --data-dir ${relative(REPO_ROOT, dir)}`);
  const p = spawnBerth(["events", ...(flags as string).split(" ")], { name: `${up.name}-events` });
  const exit = await p.exited;
  expect(exit.code, p.readLog()).toBe(0);
  expect(p.readLog()).toMatch(/InstanceRegistered\s+berth\.evt\./);
});

test("berth state rebuilds the state as the reader user", async () => {
  const { stdout } = await run(process.execPath, [BERTH_BIN, "state", "--json", "--nats", natsUrl, "--data-dir", dir], {
    cwd: REPO_ROOT,
    timeout: 60_000,
  });
  const state = JSON.parse(stdout);
  expect(state.clusters.map((c: { clusterName: string }) => c.clusterName)).toContain("default");
  expect(state.containerInstances).toHaveLength(1);
});

test("berth sim joins as the control plane user, in a region of its own, and its fleet runs a task, with --fargate a FARGATE one too; berth events --ecs follows it as the reader", async () => {
  const region = "us-west-2";
  const ecs = ecsClient(endpoint, region);
  const cluster = uniqueName("upsec-sim");
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const family = uniqueName("upsec-sim");
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 16 }],
    }),
  );
  // A Fargate task definition too: the fleet offers FARGATE capacity.
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${family}-fargate`,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      containerDefinitions: [{ name: "app", image: TEST_IMAGE }],
    }),
  );
  const sim = spawnBerth(
    ["sim", "--instances", "3", "--fargate", "--cluster", cluster, "--region", region, "--nats", natsUrl, "--data-dir", dir],
    { name: `${up.name}-sim` },
  );
  const watcher = spawnBerth(["events", "--ecs", "--nats", natsUrl, "--data-dir", dir], {
    name: `${up.name}-ecs-events`,
  });
  const gone = new AbortController();
  void sim.exited.then((e) => gone.abort(new Error(`berth sim exited (${e.code}): ${sim.readLog()}`)));
  void watcher.exited.then((e) => gone.abort(new Error(`berth events --ecs exited (${e.code}): ${watcher.readLog()}`)));
  try {
    await waitFor(
      async () => (await ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns?.length === 3,
      { timeoutMs: 30_000, intervalMs: 200, what: "three hollow instances", signal: gone.signal },
    );
    // The reader follows the ECS events too: the task's, and the instance's it is placed on.
    await waitFor(() => watcher.readLog().includes("following ECS events on berth.ecs.>") || undefined, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "berth events --ecs to subscribe",
      signal: gone.signal,
    });
    const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }));
    const taskArn = run.tasks?.[0]?.taskArn as string;
    expect(taskArn, JSON.stringify(run.failures)).toBeTruthy();
    await waitFor(
      async () =>
        (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks?.[0]?.lastStatus === "RUNNING",
      { timeoutMs: 30_000, intervalMs: 200, what: "the hollow task to run", signal: gone.signal },
    );
    const task = `task/${cluster}/${taskArn.split("/").pop()}`;
    await waitFor(() => watcher.readLog().includes(`  ${task}  RUNNING (desired RUNNING)`) || undefined, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `the ECS Task State Change of ${task} to RUNNING`,
      signal: gone.signal,
    });
    expect(watcher.readLog()).toMatch(
      new RegExp(`ECS Container Instance State Change\\s+container-instance/${cluster}/`),
    );

    const fargate = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: `${family}-fargate`,
        launchType: "FARGATE",
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0abc1234"] } },
      }),
    );
    const fargateArn = fargate.tasks?.[0]?.taskArn as string;
    expect(fargateArn, JSON.stringify(fargate.failures)).toBeTruthy();
    const ran = await waitFor(
      async () => {
        const t = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [fargateArn] }))).tasks?.[0];
        return t?.lastStatus === "RUNNING" ? t : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the hollow Fargate task to run", signal: gone.signal },
    );
    expect(ran.launchType).toBe("FARGATE");
    expect(ran.attachments?.[0]?.status).toBe("ATTACHED");
    expect(watcher.running()).toBe(true);
  } finally {
    await Promise.all([sim.stop(), watcher.stop()]);
  }
}, 90_000);

test("berth logs --follow streams a container's output from the restricted agent", async () => {
  const ecs = ecsClient(endpoint);
  const family = uniqueName("upsec-logs");
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: "talker",
          image: TEST_IMAGE,
          command: ["sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.3; done"],
          memory: 16,
          stopTimeout: 1,
        },
      ],
    }),
  );
  const run = await ecs.send(new RunTaskCommand({ cluster: "default", taskDefinition: family }));
  const taskArn = run.tasks?.[0]?.taskArn as string;
  expect(taskArn, JSON.stringify(run.failures)).toBeTruthy();
  await waitFor(
    async () =>
      (await ecs.send(new DescribeTasksCommand({ cluster: "default", tasks: [taskArn] }))).tasks?.[0]?.lastStatus ===
      "RUNNING",
    { timeoutMs: 60_000, intervalMs: 200, what: "the talker to run" },
  );

  // --tail 0: every line printed came through the follow, none from the agent's first answer.
  const follower = spawnBerth(["logs", taskArn, "--follow", "--tail", "0"], {
    name: `${up.name}-logs-follow`,
    env: { BERTH_ENDPOINT: endpoint, BERTH_CLUSTER: "default" },
  });
  const gone = new AbortController();
  void follower.exited.then((e) =>
    gone.abort(new Error(`berth logs --follow exited (${e.code}): ${follower.readLog()}`)),
  );
  try {
    await waitFor(() => new Set(follower.readLog().match(/^line-\d+$/gm)).size >= 2, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "two lines followed live",
      signal: gone.signal,
    });
    expect(follower.running()).toBe(true);
  } finally {
    await follower.stop();
  }

  await ecs.send(new StopTaskCommand({ cluster: "default", task: taskArn }));
  await waitFor(
    async () =>
      (await ecs.send(new DescribeTasksCommand({ cluster: "default", tasks: [taskArn] }))).tasks?.[0]?.lastStatus ===
      "STOPPED",
    { timeoutMs: 60_000, intervalMs: 200, what: "the talker to stop" },
  );
  expect(up.readLog()).not.toMatch(/(Publish|Subscription) Violation/);
}, 120_000);

test("a second berth up on a taken API port says so, and leaves no nats-server behind", async () => {
  const other = mkdtempSync(join(tmpdir(), `${uniqueName("t-up-taken")}-`));
  const apiPort = new URL(endpoint).port;
  const natsPort = await freePort();
  try {
    const { BERTH_NATS_URL: _external, ...env } = process.env;
    const failed = await run(
      process.execPath,
      [BERTH_BIN, "up", "--data-dir", other, "--port", apiPort, "--nats-port", String(natsPort), "--no-agent"],
      { cwd: REPO_ROOT, timeout: 60_000, env },
    ).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`berth up: port ${apiPort} is taken: set --port or BERTH_PORT`);
    // Its embedded nats-server is gone with it: the port can be listened on again.
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once("error", reject);
      probe.listen(natsPort, "127.0.0.1", () => probe.close(() => resolve()));
    });
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}, 90_000);
