import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerName, labels } from "../../events/agent.ts";
import { consumers, streams } from "../../events/names.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { type AgentDriver, startAgentDriver, taskSpec } from "../support/agent-driver.ts";
import { dockerClient, removeContainersByLabel } from "../support/docker.ts";
import { type ManagedProcess, REPO_ROOT, spawnProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const docker = dockerClient();
const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "silent" });

let driver: AgentDriver;
let dataDir: string;
let agent: Agent;

async function containersOfTask(taskArn: string) {
  return docker.listContainers({ all: true, filters: { label: [`${labels.taskArn}=${taskArn}`] } });
}

/** Waits until the agent has acknowledged every directive sent to it so far. */
async function directivesDrained(instanceId: string) {
  const jsm = await driver.js.jetstreamManager();
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(streams.directives, consumers.directives(instanceId));
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
    },
    { timeoutMs: 30_000, what: "every directive acknowledged" },
  );
}

beforeAll(async () => {
  driver = await startAgentDriver();
  dataDir = mkdtempSync(join(tmpdir(), "berth-agent-"));
  agent = await startAgent({
    taskCleanupWaitMs: 0,
    nc: driver.nc,
    region: driver.region,
    cluster: driver.cluster,
    dataDir,
    logger,
    name: "inproc",
    stopTimeoutSeconds: 2,
    heartbeatIntervalMs: 500,
  });
});

afterAll(async () => {
  await agent?.stop();
  if (driver) await removeContainersByLabel(labels.cluster, driver.cluster);
  await driver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("agent registration and heartbeats", () => {
  it("registers the host's real resources and attributes and heartbeats into KV", async () => {
    const reg = driver.registrations.at(-1);
    expect(reg?.instanceId).toBe(agent.instanceId);
    const info = await docker.info();
    const cpu = reg?.totalResources.find((r) => r.name === "CPU");
    const memory = reg?.totalResources.find((r) => r.name === "MEMORY");
    expect(cpu?.integerValue).toBe(1024 * info.NCPU);
    expect(memory?.integerValue).toBe(Math.floor(info.MemTotal / (1024 * 1024)));
    expect(reg?.totalResources.find((r) => r.name === "PORTS")?.stringSetValue).toEqual([
      "22",
      "2375",
      "2376",
      "51678",
      "51679",
    ]);
    const names = reg?.attributes.map((a) => a.name) ?? [];
    expect(reg?.attributes).toContainEqual({ name: "ecs.os-type", value: "linux" });
    expect(names).toContain("ecs.cpu-architecture");
    expect(names).toContain("ecs.capability.container-health-check");
    expect(names).toContain("com.amazonaws.ecs.capability.docker-remote-api.1.17");
    expect(names).toContain("com.amazonaws.ecs.capability.logging-driver.json-file");
    expect(reg?.versionInfo.dockerVersion).toContain((await docker.version()).Version);
    const hb = await waitFor(() => driver.lastHeartbeat(agent.instanceId), { timeoutMs: 10_000, what: "a heartbeat" });
    expect(hb.cluster).toBe(driver.cluster);
    // Each beat carries the agent's check of the engine it runs on, which answers.
    expect(hb.runtime).toBe("OK");
  });
});

describe("agent task lifecycle", () => {
  it("reports a task whose container exits 3 as STOPPED with exit code 3 and removes it", async () => {
    const spec = taskSpec({ cluster: driver.cluster, containers: [{ name: "main", command: ["sh", "-c", "exit 3"] }] });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "main", (o) => o.status === "STOPPED");
    expect(stopped.exitCode).toBe(3);
    expect(stopped.runtimeId).toMatch(/^[0-9a-f]{64}$/);
    expect(stopped.imageDigest).toMatch(/^sha256:/);
    // The pull from Docker Hub fails here (no network); the cached image is used, and the times are recorded.
    expect(stopped.pullStartedAt).toBeTypeOf("number");
    expect(stopped.pullStoppedAt).toBeGreaterThanOrEqual(stopped.pullStartedAt ?? 0);
    await waitFor(async () => (await containersOfTask(spec.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "the exited task's container removed",
    });
  });

  it("runs a long task (limits visible in docker inspect) until StopTask, then leaves no container", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      cpu: "512",
      containers: [
        {
          name: "web",
          command: ["sleep", "300"],
          cpu: 256,
          memory: 64,
          memoryReservation: 32,
          environment: [{ name: "GREETING", value: "hello" }],
          dockerLabels: { "com.example.team": "berth" },
          workingDirectory: "/tmp",
        },
        { name: "side", command: ["sleep", "300"] },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const running = await driver.waitForContainer(spec.taskArn, "web", (o) => o.status === "RUNNING");
    await driver.waitForContainer(spec.taskArn, "side", (o) => o.status === "RUNNING");
    const web = await docker.getContainer(containerName(spec.taskId, "web")).inspect();
    expect(web.Id).toBe(running.runtimeId);
    expect(web.HostConfig.CpuShares).toBe(256);
    expect(web.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(web.HostConfig.MemoryReservation).toBe(32 * 1024 * 1024);
    expect(web.HostConfig.NanoCpus).toBe(0.5e9);
    expect(web.Config.Env).toContain("GREETING=hello");
    expect(web.Config.WorkingDir).toBe("/tmp");
    expect(web.Config.Labels).toMatchObject({
      "com.example.team": "berth",
      [labels.managed]: "true",
      [labels.taskArn]: spec.taskArn,
      [labels.containerName]: "web",
      [labels.instanceId]: agent.instanceId,
    });
    const side = await docker.getContainer(containerName(spec.taskId, "side")).inspect();
    expect(side.HostConfig.CpuShares).toBe(2); // ECS's minimum share for cpu 0/absent

    await driver.stopTask(agent.instanceId, spec);
    const webStopped = await driver.waitForContainer(spec.taskArn, "web", (o) => o.status === "STOPPED");
    await driver.waitForContainer(spec.taskArn, "side", (o) => o.status === "STOPPED");
    // `sleep` as PID 1 ignores SIGTERM: stopTimeout (2 s) passes and SIGKILL ends it.
    expect(webStopped.exitCode).toBe(137);
    const stopping = driver.observations.findIndex(
      (o) => o.type === "TaskStoppingObserved" && o.taskArn === spec.taskArn,
    );
    const firstStopped = driver.observations.findIndex(
      (o) => o.type === "ContainerObserved" && o.taskArn === spec.taskArn && o.status === "STOPPED",
    );
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(stopping).toBeLessThan(firstStopped);
    await waitFor(async () => (await containersOfTask(spec.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "no container of the stopped task left",
    });
  });

  it("reports a non-essential container's exit while the essential one keeps running", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        { name: "app", command: ["sleep", "300"] },
        { name: "init", essential: false, command: ["sh", "-c", "echo done; exit 0"] },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const init = await driver.waitForContainer(spec.taskArn, "init", (o) => o.status === "STOPPED");
    expect(init.exitCode).toBe(0);
    await driver.waitForContainer(spec.taskArn, "app", (o) => o.status === "RUNNING");
    // Essential semantics are the control plane's: the agent leaves the task as it is.
    const app = await docker.getContainer(containerName(spec.taskId, "app")).inspect();
    expect(app.State.Running).toBe(true);
    expect((await containersOfTask(spec.taskArn)).length).toBe(2);
    expect(driver.containerObservations(spec.taskArn, "app").some((o) => o.status === "STOPPED")).toBe(false);
    await driver.stopTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "app", (o) => o.status === "STOPPED");
    await waitFor(async () => (await containersOfTask(spec.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "the task's containers removed",
    });
  });

  it("creates no duplicate when a StartTask directive is delivered twice", async () => {
    const spec = taskSpec({ cluster: driver.cluster, containers: [{ name: "only", command: ["sleep", "300"] }] });
    // Two distinct messages (different msgIDs), so JetStream does not deduplicate them: the agent must.
    await driver.startTask(agent.instanceId, spec, `${spec.taskArn}:start:1`);
    await driver.startTask(agent.instanceId, spec, `${spec.taskArn}:start:2`);
    await driver.waitForContainer(spec.taskArn, "only", (o) => o.status === "RUNNING");
    await directivesDrained(agent.instanceId);
    const rows = await containersOfTask(spec.taskArn);
    expect(rows.length).toBe(1);
    const runtimeIds = new Set(driver.containerObservations(spec.taskArn, "only").map((o) => o.runtimeId));
    expect([...runtimeIds]).toEqual([rows[0]?.Id]);
    await driver.stopTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "only", (o) => o.status === "STOPPED");
  });

  it("reports an OOM kill with ECS's reason and exit code 137", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "hog", memory: 16, command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"] }],
    });
    await driver.startTask(agent.instanceId, spec);
    const first = await driver.waitForContainer(spec.taskArn, "hog", (o) => o.status === "STOPPED");
    expect(first.exitCode).toBe(137);
    // With cgroup v2 Docker's `oom` event can come after the exit has been inspected and reported:
    // the agent then reports the container again, with the reason.
    const stopped = await driver.waitForContainer(spec.taskArn, "hog", (o) => o.status === "STOPPED" && o.reason !== undefined);
    expect(stopped.exitCode).toBe(137);
    expect(stopped.reason).toBe("OutOfMemoryError: Container killed due to memory usage");
  });

  it("reports CannotPullContainerError when the image is neither pullable nor cached", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "ghost", image: "berth-test/does-not-exist:v1", command: ["true"] }],
    });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "ghost", (o) => o.status === "STOPPED");
    expect(stopped.reason).toMatch(/^CannotPullContainerError: /);
    expect(stopped.runtimeId).toBeUndefined();
    expect((await containersOfTask(spec.taskArn)).length).toBe(0);
  });

  it("reports CannotStartContainerError with Docker's text when the command does not exist", async () => {
    const spec = taskSpec({ cluster: driver.cluster, containers: [{ name: "bad", command: ["/no/such/binary"] }] });
    await driver.startTask(agent.instanceId, spec);
    const stopped = await driver.waitForContainer(spec.taskArn, "bad", (o) => o.status === "STOPPED");
    expect(stopped.reason).toMatch(/^CannotStartContainerError: .*no such file or directory/);
    await waitFor(async () => (await containersOfTask(spec.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "the failed container removed",
    });
  });
});

describe("agent restart (kill -9) and reconcile", () => {
  let proc: ManagedProcess | undefined;
  let procData: string;
  const name = "killed";

  const spawnAgent = () =>
    spawnProcess(process.execPath, ["--import", "tsx", join(REPO_ROOT, "services/agent/run.ts")], {
      name: `${driver.cluster}-agent-${name}`,
      env: {
        BERTH_NATS_URL: driver.nats.url,
        BERTH_REGION: driver.region,
        BERTH_CLUSTER: driver.cluster,
        BERTH_DATA_DIR: procData,
        BERTH_AGENT_NAME: name,
        BERTH_CONTAINER_STOP_TIMEOUT: "2",
        BERTH_HEARTBEAT_MS: "500",
        BERTH_LOG_LEVEL: "debug",
      },
    });

  afterAll(async () => {
    await proc?.stop();
    if (procData) rmSync(procData, { recursive: true, force: true });
  });

  it("adopts running containers, reports the one stopped while away, never restarts a finished task", async () => {
    procData = mkdtempSync(join(tmpdir(), "berth-agent-kill-"));
    const before = driver.registrations.length;
    proc = spawnAgent();
    const reg = await waitFor(() => driver.registrations[before], {
      timeoutMs: 30_000,
      what: "the child agent registering",
    });
    const instanceId = reg.instanceId as string;
    // A container that exits 42 on SIGTERM, so a hand-made `docker stop` leaves a known exit code.
    const trap = ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 1; done"];
    const keep = taskSpec({ cluster: driver.cluster, containers: [{ name: "keep", command: ["sleep", "300"] }] });
    const lost = taskSpec({ cluster: driver.cluster, containers: [{ name: "lost", command: trap }] });
    const done = taskSpec({ cluster: driver.cluster, containers: [{ name: "done", command: ["sh", "-c", "exit 3"] }] });
    const unwanted = taskSpec({ cluster: driver.cluster, containers: [{ name: "u", command: ["sleep", "300"] }] });
    for (const t of [keep, lost, done, unwanted]) await driver.startTask(instanceId, t);
    await driver.waitForContainer(unwanted.taskArn, "u", (o) => o.status === "RUNNING");
    const keepRunning = await driver.waitForContainer(keep.taskArn, "keep", (o) => o.status === "RUNNING");
    await driver.waitForContainer(lost.taskArn, "lost", (o) => o.status === "RUNNING");
    await driver.waitForContainer(done.taskArn, "done", (o) => o.status === "STOPPED" && o.exitCode === 3);
    await waitFor(async () => (await containersOfTask(done.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "the finished task removed",
    });
    await directivesDrained(instanceId);

    await proc.kill9();
    await docker.getContainer(containerName(lost.taskId, "lost")).stop({ t: 10 });
    // The control plane still believes all three should run (it has not folded the exit of `done`).
    driver.setDesired(instanceId, [
      { taskArn: keep.taskArn, desiredStatus: "RUNNING", spec: keep },
      { taskArn: lost.taskArn, desiredStatus: "RUNNING", spec: lost },
      { taskArn: done.taskArn, desiredStatus: "RUNNING", spec: done },
      // Stopped by the user while the agent was away: reconcile stops it.
      { taskArn: unwanted.taskArn, desiredStatus: "STOPPED", spec: unwanted },
    ]);
    const observedBefore = driver.observations.length;
    const registrationsBefore = driver.registrations.length;
    proc = spawnAgent();
    const again = await waitFor(() => driver.registrations[registrationsBefore], {
      timeoutMs: 30_000,
      what: "the restarted agent registering",
    });
    expect(again.instanceId).toBe(instanceId);

    const lostStopped = await driver.waitForContainer(lost.taskArn, "lost", (o) => o.status === "STOPPED");
    expect(lostStopped.exitCode).toBe(42);
    // Adopted: the same container, republished by reconcile (deduplicated or not, it is the same runtime id).
    await waitFor(() => driver.syncs.some((s) => s.instanceId === instanceId), { timeoutMs: 10_000, what: "a sync" });
    const keepRows = await containersOfTask(keep.taskArn);
    expect(keepRows.map((r) => r.Id)).toEqual([keepRunning.runtimeId]);
    expect(keepRows[0]?.State).toBe("running");
    // `done` ran before: reported STOPPED again with its exit code, never started a second time.
    await waitFor(
      () =>
        driver.observations
          .slice(observedBefore)
          .some((o) => o.type === "ContainerObserved" && o.taskArn === done.taskArn && o.status === "STOPPED") ||
        // the republished fact may be deduplicated by JetStream within its window: then no new message arrives
        driver.containerObservations(done.taskArn, "done").some((o) => o.status === "STOPPED" && o.exitCode === 3),
      { timeoutMs: 10_000, what: "the finished task reported" },
    );
    await waitFor(async () => (await containersOfTask(lost.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "the stopped task's container removed",
    });
    expect((await containersOfTask(done.taskArn)).length).toBe(0);
    expect(
      driver
        .containerObservations(done.taskArn, "done")
        .every((o) => o.status !== "RUNNING" || o.exitCode === undefined),
    ).toBe(true);
    const doneRuntimeIds = new Set(driver.containerObservations(done.taskArn, "done").map((o) => o.runtimeId));
    expect(doneRuntimeIds.size).toBe(1);
    expect(driver.containerObservations(keep.taskArn, "keep").every((o) => o.runtimeId === keepRunning.runtimeId)).toBe(
      true,
    );

    const u = await driver.waitForContainer(unwanted.taskArn, "u", (o) => o.status === "STOPPED");
    expect(u.exitCode).toBe(137);
    await waitFor(async () => (await containersOfTask(unwanted.taskArn)).length === 0, {
      timeoutMs: 15_000,
      what: "the unwanted task removed",
    });

    await driver.stopTask(instanceId, keep);
    await driver.waitForContainer(keep.taskArn, "keep", (o) => o.status === "STOPPED");
  });
});

describe("a stopped task's containers stay for the cleanup wait", () => {
  it("keeps the exited container and its output, and a restarted agent whose wait is over removes it", async () => {
    const keeperDir = mkdtempSync(join(tmpdir(), "berth-keeper-"));
    const options = { nc: driver.nc, region: driver.region, cluster: driver.cluster, dataDir: keeperDir, logger, name: "keeper", stopTimeoutSeconds: 2 };
    let keeper = await startAgent({ ...options, taskCleanupWaitMs: 3_600_000 });
    try {
      const spec = taskSpec({ cluster: driver.cluster, containers: [{ name: "main", command: ["sh", "-c", "echo kept output; exit 3"] }] });
      await driver.startTask(keeper.instanceId, spec);
      await driver.waitForContainer(spec.taskArn, "main", (o) => o.status === "STOPPED");
      // The agent has seen the task stopped and decided what to keep (its record says when).
      const record = join(keeperDir, "agent-keeper", "tasks", `${spec.taskId}.json`);
      await waitFor(() => existsSync(record) && JSON.parse(readFileSync(record, "utf8")).stoppedAt !== undefined, {
        timeoutMs: 30_000,
        what: "the stopped task's record",
      });
      const [row] = await containersOfTask(spec.taskArn);
      expect(row?.State).toBe("exited");
      const output = await docker.getContainer(row?.Id as string).logs({ stdout: true, stderr: true });
      expect(output.toString("latin1")).toContain("kept output");

      // The time it stopped is in the agent's record: started again with no wait, the agent removes it.
      await keeper.stop();
      keeper = await startAgent({ ...options, taskCleanupWaitMs: 0 });
      await waitFor(async () => (await containersOfTask(spec.taskArn)).length === 0, {
        timeoutMs: 30_000,
        what: "the stopped task's container removed by the restarted agent",
      });
      // A task stopped long ago is not stopped again: no stopping fact about it, only its cleanup.
      expect(driver.observations.filter((o) => o.type === "TaskStoppingObserved" && o.taskArn === spec.taskArn)).toEqual([]);
    } finally {
      await keeper.stop();
      rmSync(keeperDir, { recursive: true, force: true });
    }
  });
});
