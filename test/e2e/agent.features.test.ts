import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerName, labels, type Observation } from "../../events/agent.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { pauseContainerName, taskNetworkName } from "../../services/agent/task-resources.ts";
import { type AgentDriver, startAgentDriver, taskSpec } from "../support/agent-driver.ts";
import { dockerClient, removeContainersByLabel, removeNetworksByLabel, TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

const docker = dockerClient();
const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "silent" });

let driver: AgentDriver;
let dataDir: string;
let agent: Agent;
const sharedVolumes: string[] = [];

const inspect = (taskId: string, name: string) => docker.getContainer(containerName(taskId, name)).inspect();
const containersOfTask = (taskArn: string) =>
  docker.listContainers({ all: true, filters: { label: [`${labels.taskArn}=${taskArn}`] } });
const indexOf = (pred: (o: Observation) => boolean) => driver.observations.findIndex(pred);
const gone = (taskArn: string) =>
  waitFor(async () => (await containersOfTask(taskArn)).length === 0, {
    timeoutMs: 20_000,
    what: `no container of ${taskArn}`,
  });

beforeAll(async () => {
  driver = await startAgentDriver();
  dataDir = mkdtempSync(join(tmpdir(), "berth-agent-feat-"));
  agent = await startAgent({
    taskCleanupWaitMs: 0,
    nc: driver.nc,
    region: driver.region,
    cluster: driver.cluster,
    dataDir,
    logger,
    stopTimeoutSeconds: 2,
    statsIntervalMs: 1_000,
    imagePullBehavior: "prefer-cached",
    allowHostNetwork: true,
    allowHostMounts: true,
    pauseContainer: { image: TEST_IMAGE, command: ["sleep", "2147483647"] },
  });
});

afterAll(async () => {
  await agent?.stop();
  if (driver) {
    await removeContainersByLabel(labels.cluster, driver.cluster);
    await removeNetworksByLabel(labels.cluster, driver.cluster);
  }
  for (const v of sharedVolumes)
    await docker
      .getVolume(v)
      .remove()
      .catch(() => {});
  await driver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("dependsOn and health checks", () => {
  it("starts in dependency order (HEALTHY, SUCCESS) and stops in reverse", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        {
          name: "app",
          command: ["sleep", "300"],
          dependsOn: [{ containerName: "migrate", condition: "SUCCESS" }],
        },
        {
          name: "migrate",
          essential: false,
          command: ["sh", "-c", "sleep 1; exit 0"],
          dependsOn: [{ containerName: "db", condition: "HEALTHY" }],
        },
        {
          name: "db",
          command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 300"],
          healthCheck: { command: ["CMD-SHELL", "test -f /tmp/ready"], interval: 1, timeout: 1, retries: 3 },
          startTimeout: 30,
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const healthy = await driver.waitForContainer(spec.taskArn, "db", (o) => o.healthStatus === "HEALTHY");
    expect(healthy.status).toBe("RUNNING");
    await driver.waitForContainer(spec.taskArn, "app", (o) => o.status === "RUNNING");
    const [db, migrate, app] = await Promise.all([
      inspect(spec.taskId, "db"),
      inspect(spec.taskId, "migrate"),
      inspect(spec.taskId, "app"),
    ]);
    expect(db.Config.Healthcheck?.Test).toEqual(["CMD-SHELL", "test -f /tmp/ready"]);
    // Docker's own timestamps: migrate started after db was healthy, app after migrate exited 0.
    const lastHealthy = db.State.Health?.Log?.find((l) => l.ExitCode === 0);
    expect(Date.parse(migrate.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(lastHealthy?.End ?? ""));
    expect(migrate.State.ExitCode).toBe(0);
    expect(Date.parse(app.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(migrate.State.FinishedAt));

    await driver.stopTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "db", (o) => o.status === "STOPPED");
    const appStopped = indexOf(
      (o) =>
        o.type === "ContainerObserved" &&
        o.taskArn === spec.taskArn &&
        o.containerName === "app" &&
        o.status === "STOPPED",
    );
    const dbStopped = indexOf(
      (o) =>
        o.type === "ContainerObserved" &&
        o.taskArn === spec.taskArn &&
        o.containerName === "db" &&
        o.status === "STOPPED",
    );
    expect(appStopped).toBeGreaterThanOrEqual(0);
    expect(appStopped).toBeLessThan(dbStopped);
    await gone(spec.taskArn);
  });

  it("reports a failing health check as UNHEALTHY", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        {
          name: "sick",
          command: ["sleep", "300"],
          healthCheck: { command: ["CMD", "false"], interval: 1, timeout: 1, retries: 1 },
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const sick = await driver.waitForContainer(spec.taskArn, "sick", (o) => o.healthStatus === "UNHEALTHY");
    expect(sick.status).toBe("RUNNING"); // a standalone task keeps running; replacing it is the control plane's call
    await driver.stopTask(agent.instanceId, spec);
    await gone(spec.taskArn);
  });

  it("does not start a container whose SUCCESS dependency failed", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        { name: "setup", essential: false, command: ["sh", "-c", "exit 1"] },
        { name: "main", command: ["sleep", "300"], dependsOn: [{ containerName: "setup", condition: "SUCCESS" }] },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const main = await driver.waitForContainer(spec.taskArn, "main", (o) => o.status === "STOPPED");
    expect(main.reason).toMatch(/^DependencyConditionNotMet: container setup did not reach SUCCESS/);
    expect(main.runtimeId).toBeUndefined();
    await gone(spec.taskArn);
  });
});

describe("container settings Docker really applied", () => {
  it("volumes: bind mount, task-scoped and shared Docker volumes, volumesFrom", async () => {
    const hostDir = mkdtempSync(join(tmpdir(), "berth-bind-"));
    const shared = `berth-shared-${driver.cluster}`;
    sharedVolumes.push(shared);
    const spec = taskSpec({
      cluster: driver.cluster,
      volumes: [
        { name: "hostdir", host: { sourcePath: hostDir } },
        { name: "scratch", dockerVolumeConfiguration: { scope: "task", driver: "local" } },
        { name: shared, dockerVolumeConfiguration: { scope: "shared", autoprovision: true } },
      ],
      containers: [
        {
          name: "writer",
          command: ["sh", "-c", "echo from-task > /host/out.txt; echo s > /scratch/s; sleep 300"],
          mountPoints: [
            { sourceVolume: "hostdir", containerPath: "/host" },
            { sourceVolume: "scratch", containerPath: "/scratch" },
            { sourceVolume: shared, containerPath: "/shared", readOnly: true },
          ],
        },
        { name: "reader", command: ["sleep", "300"], volumesFrom: [{ sourceContainer: "writer", readOnly: true }] },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "reader", (o) => o.status === "RUNNING");
    await waitFor(() => readFileSync(join(hostDir, "out.txt"), "utf8") === "from-task\n", {
      timeoutMs: 10_000,
      what: "the container's file on the host",
    });
    const writer = await inspect(spec.taskId, "writer");
    const mounts = Object.fromEntries((writer.Mounts ?? []).map((m) => [m.Destination, m]));
    expect(mounts["/host"]).toMatchObject({ Type: "bind", Source: hostDir, RW: true });
    expect(mounts["/scratch"]).toMatchObject({ Type: "volume", Name: `berth-${spec.taskId}-scratch` });
    expect(mounts["/shared"]).toMatchObject({ Type: "volume", Name: shared, RW: false });
    const reader = await inspect(spec.taskId, "reader");
    expect(reader.HostConfig.VolumesFrom).toEqual([`${containerName(spec.taskId, "writer")}:ro`]);
    expect((reader.Mounts ?? []).map((m) => m.Destination).sort()).toEqual(["/host", "/scratch", "/shared"]);

    await driver.stopTask(agent.instanceId, spec);
    await gone(spec.taskArn);
    await waitFor(
      () =>
        docker
          .getVolume(`berth-${spec.taskId}-scratch`)
          .inspect()
          .then(
            () => false,
            () => true,
          ),
      { timeoutMs: 10_000, what: "the task volume removed" },
    );
    expect((await docker.getVolume(shared).inspect()).Name).toBe(shared); // shared volumes outlive tasks
    rmSync(hostDir, { recursive: true, force: true });
  });

  it("ulimits, read-only root, extraHosts, dns, log configuration, user, init; privileged refused", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        {
          name: "tuned",
          command: ["sleep", "300"],
          ulimits: [{ name: "nofile", softLimit: 1000, hardLimit: 2000 }],
          readonlyRootFilesystem: true,
          extraHosts: [{ hostname: "db.internal", ipAddress: "10.1.2.3" }],
          dnsServers: ["10.0.0.2"],
          dnsSearchDomains: ["corp.example"],
          logConfiguration: { logDriver: "json-file", options: { "max-size": "1m" } },
          user: "65534",
          linuxParameters: { initProcessEnabled: true },
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "tuned", (o) => o.status === "RUNNING");
    const c = await inspect(spec.taskId, "tuned");
    expect(c.HostConfig.Ulimits).toEqual([{ Name: "nofile", Soft: 1000, Hard: 2000 }]);
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    expect(c.HostConfig.ExtraHosts).toEqual(["db.internal:10.1.2.3"]);
    expect(c.HostConfig.Dns).toEqual(["10.0.0.2"]);
    expect(c.HostConfig.DnsSearch).toEqual(["corp.example"]);
    expect(c.HostConfig.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "1m" } });
    expect(c.Config.User).toBe("65534");
    expect(c.HostConfig.Init).toBe(true);
    await driver.stopTask(agent.instanceId, spec);

    const priv = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "p", command: ["true"], privileged: true }],
    });
    await driver.startTask(agent.instanceId, priv);
    const refused = await driver.waitForContainer(priv.taskArn, "p", (o) => o.status === "STOPPED");
    expect(refused.reason).toMatch(/^CannotCreateContainerError: privileged/);
    await gone(spec.taskArn);
  });
});

describe("network modes", () => {
  it("bridge: static and dynamic host ports, reported as network bindings and reachable", async () => {
    const staticPort = await freePort();
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        {
          name: "web",
          command: ["sh", "-c", "echo hello > /tmp/index.html; httpd -f -p 8080 -h /tmp"],
          portMappings: [{ containerPort: 8080, hostPort: staticPort }, { containerPort: 9090 }],
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const running = await driver.waitForContainer(spec.taskArn, "web", (o) => o.status === "RUNNING");
    const bindings = running.networkBindings ?? [];
    expect(bindings).toContainEqual({ bindIP: "0.0.0.0", containerPort: 8080, hostPort: staticPort, protocol: "tcp" });
    const dynamic = bindings.find((b) => b.containerPort === 9090);
    expect(dynamic?.hostPort).toBeGreaterThan(1024);
    const body = await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${staticPort}/index.html`);
        return r.ok ? r.text() : undefined;
      },
      { timeoutMs: 10_000, what: "httpd answering on the static host port" },
    );
    expect(body).toBe("hello\n");
    await driver.stopTask(agent.instanceId, spec);
    await gone(spec.taskArn);
  });

  it("links: a container reaches a linked one by its alias", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        { name: "web", command: ["sh", "-c", "echo linked > /tmp/index.html; httpd -f -p 8080 -h /tmp"] },
        {
          name: "client",
          essential: false,
          links: ["web:websrv"],
          command: ["sh", "-c", "until wget -q -O /dev/null http://websrv:8080/index.html; do sleep 0.2; done"],
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const client = await driver.waitForContainer(spec.taskArn, "client", (o) => o.status === "STOPPED");
    expect(client.exitCode).toBe(0);
    await driver.stopTask(agent.instanceId, spec);
    await gone(spec.taskArn);
  });

  it("host and none", async () => {
    const port = await freePort();
    const host = taskSpec({
      cluster: driver.cluster,
      networkMode: "host",
      containers: [
        {
          name: "h",
          command: ["httpd", "-f", "-p", String(port)],
          portMappings: [{ containerPort: port, hostPort: port }],
        },
      ],
    });
    const none = taskSpec({
      cluster: driver.cluster,
      networkMode: "none",
      containers: [{ name: "n", command: ["sleep", "300"] }],
    });
    await driver.startTask(agent.instanceId, host);
    await driver.startTask(agent.instanceId, none);
    const h = await driver.waitForContainer(host.taskArn, "h", (o) => o.status === "RUNNING");
    expect(h.networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: port, hostPort: port, protocol: "tcp" }]);
    expect((await inspect(host.taskId, "h")).HostConfig.NetworkMode).toBe("host");
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`)).status > 0, {
      timeoutMs: 10_000,
      what: "httpd on the host network",
    });
    await driver.waitForContainer(none.taskArn, "n", (o) => o.status === "RUNNING");
    const n = await inspect(none.taskId, "n");
    expect(n.HostConfig.NetworkMode).toBe("none");
    expect(Object.keys(n.NetworkSettings.Networks)).toEqual(["none"]);
    await driver.stopTask(agent.instanceId, host);
    await driver.stopTask(agent.instanceId, none);
    await gone(host.taskArn);
    await gone(none.taskArn);
  });

  it("awsvpc: a per-task network and pause container; containers share its IP and localhost", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      networkMode: "awsvpc",
      containers: [
        {
          name: "web",
          command: ["sh", "-c", "echo vpc > /tmp/index.html; httpd -f -p 8080 -h /tmp"],
          portMappings: [{ containerPort: 8080 }],
        },
        {
          name: "client",
          essential: false,
          command: [
            "sh",
            "-c",
            "until wget -q -O /tmp/got http://127.0.0.1:8080/index.html; do sleep 0.2; done; cat /tmp/got; exit 0",
          ],
        },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    const attached = await waitFor(
      () =>
        driver.observations.find(
          (o) => o.type === "TaskAttachmentObserved" && o.taskArn === spec.taskArn && o.status === "ATTACHED",
        ),
      { timeoutMs: 20_000, what: "the task's attachment" },
    );
    if (attached.type !== "TaskAttachmentObserved") throw new Error("unreachable");
    expect(attached.privateIPv4Address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const client = await driver.waitForContainer(spec.taskArn, "client", (o) => o.status === "STOPPED");
    expect(client.exitCode).toBe(0); // reached web over the shared localhost
    const web = await driver.waitForContainer(spec.taskArn, "web", (o) => o.status === "RUNNING");
    expect(web.networkInterfaces).toEqual([
      { attachmentId: attached.attachmentId, privateIpv4Address: attached.privateIPv4Address },
    ]);
    const pause = await docker.getContainer(pauseContainerName(spec.taskId)).inspect();
    expect((await inspect(spec.taskId, "web")).HostConfig.NetworkMode).toBe(`container:${pause.Id}`);
    const body = await waitFor(
      async () => {
        const r = await fetch(`http://${attached.privateIPv4Address}:8080/index.html`);
        return r.ok ? r.text() : undefined;
      },
      { timeoutMs: 10_000, what: "web answering on the task's private IP" },
    );
    expect(body).toBe("vpc\n");

    // A second awsvpc task gets a network, and so an address, of its own.
    const other = taskSpec({
      cluster: driver.cluster,
      networkMode: "awsvpc",
      containers: [{ name: "app", command: ["sleep", "3600"] }],
    });
    await driver.startTask(agent.instanceId, other);
    const second = await waitFor(
      () =>
        driver.observations.find(
          (o) => o.type === "TaskAttachmentObserved" && o.taskArn === other.taskArn && o.status === "ATTACHED",
        ),
      { timeoutMs: 20_000, what: "the second task's attachment" },
    );
    if (second.type !== "TaskAttachmentObserved") throw new Error("unreachable");
    expect(second.privateIPv4Address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(second.privateIPv4Address).not.toBe(attached.privateIPv4Address);
    await driver.stopTask(agent.instanceId, other);

    await driver.stopTask(agent.instanceId, spec);
    await waitFor(
      () =>
        driver.observations.find(
          (o) => o.type === "TaskAttachmentObserved" && o.taskArn === spec.taskArn && o.status === "DETACHED",
        ),
      { timeoutMs: 20_000, what: "the attachment detached" },
    );
    await gone(spec.taskArn);
    expect((await docker.listNetworks({ filters: { name: [taskNetworkName(spec.taskId)] } })).length).toBe(0);
  });
});

describe("per-task stats", () => {
  it("publishes TaskStatsObserved for a running task", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "s", command: ["sleep", "300"], memory: 32 }],
    });
    await driver.startTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "s", (o) => o.status === "RUNNING");
    const stats = await waitFor(
      () => driver.observations.find((o) => o.type === "TaskStatsObserved" && o.taskArn === spec.taskArn),
      { timeoutMs: 20_000, what: "a stats sample" },
    );
    if (stats.type !== "TaskStatsObserved") throw new Error("unreachable");
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect(stats.memoryLimitBytes).toBe(32 * 1024 * 1024);
    await driver.stopTask(agent.instanceId, spec);
    await gone(spec.taskArn);
  });
});
