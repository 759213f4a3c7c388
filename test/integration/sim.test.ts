import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { consumers, streams, subjects } from "../../events/names.ts";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/control-plane.ts";
import { type Fleet, FleetStopped, startFleet } from "../../services/sim/fleet.ts";
import { SIMULATED_FAILURE } from "../../services/sim/hollow.ts";
import { uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { scrapeMetric } from "../support/metrics.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The simulated fleet against the real control plane: hollow instances register over NATS, the
 * real scheduler places RunTask and service tasks on them, and their observations drive the
 * tasks through the real task machine.
 */

const log = pino({ level: "silent" });
const INSTANCES = 20;
let nats: NatsServerHandle;
let cpConn: NatsConnection;
let simConn: NatsConnection;
let cp: ControlPlane;
let ecs: ECSClient;
let fleet: Fleet;
let failing: Fleet | undefined;
const cluster = uniqueName("sim");

beforeAll(async () => {
  nats = await startNatsServer();
  cpConn = await connect({ servers: nats.url });
  simConn = await connect({ servers: nats.url });
  cp = await startControlPlane({ nc: cpConn, log, port: 0, lostAgentTimeoutMs: 120_000 });
  ecs = ecsClient(cp.url);
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "hollow",
      containerDefinitions: [{ name: "app", image: "berth-test/busybox:latest", cpu: 64, memory: 128 }],
    }),
  );
  fleet = await startFleet({ nc: simConn, log, region: "us-east-1", cluster, instances: INSTANCES, startLatencyMs: 20, azCount: 2 });
});

afterAll(async () => {
  await failing?.stop();
  await fleet?.stop();
  await cp?.stop();
  await simConn?.close();
  await cpConn?.close();
  await nats?.stop();
});

async function describeTasks(client: ECSClient, clusterName: string, arns: string[]): Promise<Task[]> {
  const r = await client.send(new DescribeTasksCommand({ cluster: clusterName, tasks: arns }));
  return r.tasks ?? [];
}

function waitTasks(arns: string[], what: string, ok: (t: Task) => boolean, client = ecs, clusterName = cluster) {
  return waitFor(
    async () => {
      const tasks = await describeTasks(client, clusterName, arns);
      return tasks.length === arns.length && tasks.every(ok) ? tasks : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `${arns.length} tasks ${what}` },
  );
}

describe("a simulated fleet on the real control plane", () => {
  test("every hollow instance registers with its availability zone", async () => {
    const listed = await ecs.send(new ListContainerInstancesCommand({ cluster }));
    expect(listed.containerInstanceArns).toHaveLength(INSTANCES);
    const described = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: listed.containerInstanceArns }));
    const zones = new Set(
      described.containerInstances?.map((i) => i.attributes?.find((a) => a.name === "ecs.availability-zone")?.value),
    );
    expect(zones).toEqual(new Set(["us-east-1a", "us-east-1b"]));
    expect(described.containerInstances?.every((i) => i.agentConnected && i.status === "ACTIVE")).toBe(true);
  });

  test("RunTask tasks reach RUNNING on hollow instances and stop on StopTask", async () => {
    const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: "hollow", count: 10 }));
    expect(run.failures).toEqual([]);
    const arns = (run.tasks ?? []).map((t) => t.taskArn as string);
    expect(arns).toHaveLength(10);
    const running = await waitTasks(arns, "RUNNING", (t) => t.lastStatus === "RUNNING");
    const fleetArns = new Set(fleet.instances.map((i) => i.containerInstanceArn));
    expect(running.every((t) => fleetArns.has(t.containerInstanceArn as string))).toBe(true);

    const victim = arns[0] as string;
    await ecs.send(new StopTaskCommand({ cluster, task: victim, reason: "done with it" }));
    const [stopped] = await waitTasks([victim], "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(stopped?.stopCode).toBe("UserInitiated");
    expect(stopped?.containers?.[0]?.lastStatus).toBe("STOPPED");
  });

  test("an awsvpc task on a hollow instance: its interface attached with an address while it runs, deleted once it has stopped", async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "hollow-vpc",
        networkMode: "awsvpc",
        containerDefinitions: [{ name: "app", image: "berth-test/busybox:latest", cpu: 64, memory: 128 }],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: "hollow-vpc",
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0abc1234"] } },
      }),
    );
    const arn = run.tasks?.[0]?.taskArn as string;
    expect(run.tasks?.[0]?.attachments?.[0]).toMatchObject({ type: "ElasticNetworkInterface", status: "PRECREATED" });
    const [running] = await waitTasks([arn], "RUNNING", (t) => t.lastStatus === "RUNNING");
    const eni = running?.attachments?.[0];
    const detail = (name: string) => eni?.details?.find((d) => d.name === name)?.value;
    expect([eni?.id, eni?.status]).toEqual([run.tasks?.[0]?.attachments?.[0]?.id, "ATTACHED"]);
    expect(detail("subnetId")).toBe("subnet-0abc1234");
    expect(detail("privateIPv4Address")).toMatch(/^10\.\d+\.\d+\.\d+$/);

    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    const [stopped] = await waitTasks([arn], "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(stopped?.attachments?.[0]?.status).toBe("DELETED");
  });

  test("a service reaches its desired count, and a task that dies is replaced", async () => {
    const created = await ecs.send(new CreateServiceCommand({ cluster, serviceName: "web", taskDefinition: "hollow", desiredCount: 6 }));
    const serviceArn = created.service?.serviceArn as string;
    const steady = () =>
      waitFor(
        async () => {
          const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }))).services?.[0];
          return s?.runningCount === 6 && s.pendingCount === 0 ? s : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: "service web with 6 RUNNING tasks" },
      );
    await steady();
    const before = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns ?? [];
    expect(before).toHaveLength(6);

    const victim = before[0] as string;
    expect(await fleet.exit(victim, 137)).toBe(true);
    const [dead] = await waitTasks([victim], "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(dead?.stopCode).toBe("EssentialContainerExited");
    expect(dead?.containers?.[0]?.exitCode).toBe(137);

    const replaced = await waitFor(
      async () => {
        const now = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns ?? [];
        if (now.length !== 6 || now.includes(victim)) return undefined;
        const tasks = await describeTasks(ecs, cluster, now);
        return tasks.every((t) => t.lastStatus === "RUNNING") ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "a replacement for the dead service task, RUNNING" },
    );
    expect(replaced.filter((a) => !before.includes(a))).toHaveLength(1);
  });

  test("a hollow instance deregistered with force: its service task is replaced elsewhere, and it leaves the fleet as a real agent exits", async () => {
    const live = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns ?? [];
    const [onIt] = await describeTasks(ecs, cluster, live);
    const instanceArn = onIt?.containerInstanceArn as string;
    await ecs.send(new DeregisterContainerInstanceCommand({ cluster, containerInstance: instanceArn, force: true }));
    // Told by the answer to its next heartbeat, the instance stops beating and leaves.
    await waitFor(() => (fleet.instances.some((i) => i.containerInstanceArn === instanceArn) ? undefined : true), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the deregistered instance gone from the fleet",
    });
    const now = await waitFor(
      async () => {
        const arns = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }))).taskArns ?? [];
        const tasks = await describeTasks(ecs, cluster, arns);
        return tasks.length === 6 && tasks.every((t) => t.lastStatus === "RUNNING") ? tasks : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "service web back at 6 RUNNING tasks" },
    );
    expect(now.some((t) => t.containerInstanceArn === instanceArn)).toBe(false);
    expect(fleet.instances).toHaveLength(INSTANCES - 1);

    // A control plane that starts now reads that instance's last heartbeat (the bucket keeps it for
    // a day) among the others, and leaves it be: no agent beats there any more to be told.
    const lines: string[] = [];
    const captured = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const second = await startControlPlane({ nc: cpConn, log: captured, port: 0, lostAgentTimeoutMs: 120_000 });
    try {
      // The watch gives every stored value before any new one: past 2 × INSTANCES, the old value was read.
      await waitFor(async () => (await scrapeMetric(second.url, "berth_agent_heartbeats_total")) >= 2 * INSTANCES || undefined, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: "the second control plane reading the heartbeats",
      });
      expect(lines.filter((l) => l.includes("deregistered instance") && l.includes(instanceArn))).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  test("with a failure rate of 1 every start fails as Docker's would", async () => {
    const region = "eu-west-1";
    const eu = ecsClient(cp.url, region);
    await eu.send(new CreateClusterCommand({ clusterName: cluster }));
    await eu.send(
      new RegisterTaskDefinitionCommand({ family: "hollow", containerDefinitions: [{ name: "app", image: "berth-test/busybox:latest", memory: 64 }] }),
    );
    failing = await startFleet({ nc: simConn, log, region, cluster, instances: 2, failureRate: 1 });
    const run = await eu.send(new RunTaskCommand({ cluster, taskDefinition: "hollow", count: 2 }));
    const arns = (run.tasks ?? []).map((t) => t.taskArn as string);
    const stopped = await waitTasks(arns, "STOPPED", (t) => t.lastStatus === "STOPPED", eu, cluster);
    for (const t of stopped) {
      expect(t.stopCode).toBe("TaskFailedToStart");
      expect(t.containers?.[0]?.reason).toBe(SIMULATED_FAILURE);
    }
    expect(failing.stats().failed).toBe(2);
  });

  test("a second fleet in a region one already serves is refused, and the first goes on; one that ended unannounced does not block the next", async () => {
    await expect(
      startFleet({ nc: simConn, log, region: "us-east-1", cluster, instances: 1 }),
    ).rejects.toThrow(/already consumed by a real agent or another simulation/);
    const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: "hollow", count: 2 }));
    await waitTasks((run.tasks ?? []).map((t) => t.taskArn as string), "RUNNING", (t) => t.lastStatus === "RUNNING");

    // What a killed fleet leaves: its consumer of the region's directives, with nothing pulling.
    const region = "ap-south-1";
    const jsm = await jetstreamManager(simConn);
    const abandoned = consumers.simDirectives(region, "deadbeef");
    await jsm.consumers.add(streams.directives, {
      durable_name: abandoned,
      filter_subject: subjects.directivesOfRegion(region),
      ack_policy: AckPolicy.Explicit,
    });
    const ap = ecsClient(cp.url, region);
    await ap.send(new CreateClusterCommand({ clusterName: cluster }));
    const next = await startFleet({ nc: simConn, log, region, cluster, instances: 1 });
    try {
      const names: string[] = [];
      for await (const c of jsm.consumers.list(streams.directives)) names.push(c.name);
      expect(names).not.toContain(abandoned);
      expect(names.filter((n) => n.startsWith(`sim-${region}-`))).toHaveLength(1);
    } finally {
      await next.stop();
    }
  });

  test("stopped while registering, a fleet rejects with what it registered and leaves no consumer", async () => {
    const region = "sa-east-1";
    await ecsClient(cp.url, region).send(new CreateClusterCommand({ clusterName: cluster }));
    const stop = new AbortController();
    const starting = startFleet({ nc: simConn, log, region, cluster, instances: 500, signal: stop.signal });
    stop.abort();
    const err = await starting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetStopped);
    expect((err as FleetStopped).registered).toBeLessThan(500);
    const names: string[] = [];
    for await (const c of (await jetstreamManager(simConn)).consumers.list(streams.directives)) names.push(c.name);
    expect(names.filter((n) => n.startsWith(`sim-${region}-`))).toEqual([]);
  });
});
