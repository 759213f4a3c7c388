import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { subjects } from "../../events/names.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";

/** An EventBridge event as an ECS integration reads it. */
interface EcsEvent {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown> & { version?: number; lastStatus?: string; eventName?: string; eventType?: string };
}

let b: BerthFixture;
let nc: NatsConnection;
let sub: Subscription;
/** Everything received on berth.ecs.>, in arrival order, with the subject it came on. */
const received: { subject: string; event: EcsEvent }[] = [];

beforeAll(async () => {
  b = await startBerth("t-ecsev");
  nc = await connect({ servers: b.nats.url });
  // A plain subscriber, as an integration written for ECS's events would run one.
  sub = nc.subscribe(subjects.allEcsEvents, {
    callback: (_err, m) => {
      received.push({ subject: m.subject, event: m.json<EcsEvent>() });
    },
  });
  await nc.flush();
});
afterAll(async () => {
  sub?.unsubscribe();
  await nc?.close();
  await b?.close();
});

const of = (type: string, resource: string) =>
  received.filter((r) => r.event["detail-type"] === type && r.event.resources[0] === resource);

async function register(family: string, command: string[]) {
  const r = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command, memory: 16, stopTimeout: 1 }],
    }),
  );
  return r.taskDefinition?.taskDefinitionArn as string;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("ECS EventBridge-shaped events on NATS", () => {
  test("a task's state changes arrive in order: PENDING → RUNNING → STOPPED with increasing detail.version", async () => {
    const td = await register("evsleep", ["sleep", "3600"]);
    const run = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: td }));
    const arn = run.tasks?.[0]?.taskArn as string;
    await b.waitTask(arn, "RUNNING", (t) => t.lastStatus === "RUNNING");
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn, reason: "events test" }));
    const stopped = await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");

    const events = await waitFor(
      () => {
        const e = of("ECS Task State Change", arn);
        return e.some((x) => x.event.detail.lastStatus === "STOPPED" && x.event.detail.version === stopped.version)
          ? e
          : undefined;
      },
      { timeoutMs: 10_000, what: "the task's STOPPED event at its final version" },
    );

    // Envelope, exactly as EventBridge has it.
    const first = events[0]!.event;
    expect(events[0]!.subject).toBe(subjects.ecsEvent("us-east-1", "ECS Task State Change"));
    expect(first.version).toBe("0");
    expect(first.source).toBe("aws.ecs");
    expect(first.account).toMatch(/^\d{12}$/);
    expect(first.region).toBe("us-east-1");
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(first.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(first.resources).toEqual([arn]);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(events.length);

    // Detail: the DescribeTasks object with ISO timestamps.
    expect(first.detail).toMatchObject({
      taskArn: arn,
      clusterArn: expect.stringContaining(b.cluster),
      lastStatus: "PENDING",
      desiredStatus: "RUNNING",
      version: 1,
    });
    expect(first.detail.createdAt).toMatch(ISO_MS);
    expect(first.detail.updatedAt).toMatch(ISO_MS);
    expect((first.detail.containers as { name: string }[])[0]?.name).toBe("app");

    // Order follows the log: versions strictly increase, statuses never go back.
    const versions = events.map((e) => e.event.detail.version as number);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    const statuses = events.map((e) => e.event.detail.lastStatus as string);
    const order = ["PENDING", "RUNNING", "STOPPING", "STOPPED"];
    expect(statuses.map((s) => order.indexOf(s))).toEqual(statuses.map((s) => order.indexOf(s)).sort((x, y) => x - y));
    expect([...new Set(statuses)].filter((s) => s !== "STOPPING")).toEqual(["PENDING", "RUNNING", "STOPPED"]);

    const running = events.find((e) => e.event.detail.lastStatus === "RUNNING")!.event.detail;
    expect(running.startedAt).toMatch(ISO_MS);
    const last = events[events.length - 1]!.event.detail;
    expect(last).toMatchObject({
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      stopCode: "UserInitiated",
      stoppedReason: "events test",
      version: stopped.version,
    });
    expect(last.stoppedAt).toMatch(ISO_MS);

    // As in ECS, placing the task on its instance and releasing it there are changes of the
    // instance: each is a Container Instance State Change, right after the task's own event, its
    // version moving on and its remaining memory down by the task's 16 MiB and back.
    const instanceArn = stopped.containerInstanceArn as string;
    const memoryLeft = (e: EcsEvent) =>
      (e.detail.remainingResources as { name: string; integerValue: number }[]).find((r) => r.name === "MEMORY")
        ?.integerValue as number;
    const instanceEvents = await waitFor(
      () => {
        const after = received.findIndex((r) => r.event.id === events[events.length - 1]!.event.id);
        const released = received[after + 1];
        if (released?.event["detail-type"] !== "ECS Container Instance State Change") return undefined;
        const placed = received[received.findIndex((r) => r.event.id === first.id) + 1];
        return placed && [placed.event, released.event];
      },
      { timeoutMs: 10_000, what: "the instance's events after the task's first and last" },
    );
    const [placed, released] = instanceEvents as [EcsEvent, EcsEvent];
    expect(placed["detail-type"]).toBe("ECS Container Instance State Change");
    expect(placed.resources).toEqual([instanceArn]);
    expect(released.resources).toEqual([instanceArn]);
    expect(memoryLeft(placed)).toBe(memoryLeft(released) - 16);
    expect(released.detail.version).toBeGreaterThan(placed.detail.version as number);
    const described = (
      await b.ecs.send(new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: [instanceArn] }))
    ).containerInstances?.[0];
    expect(described?.version).toBeGreaterThanOrEqual(released.detail.version as number);
  });

  test("a service reports its deployment (in progress, completed) and reaching a steady state", async () => {
    const td = await register("evweb", ["sleep", "3600"]);
    const created = await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: "evweb", taskDefinition: td, desiredCount: 1 }),
    );
    const serviceArn = created.service?.serviceArn as string;
    const deploymentId = created.service?.deployments?.[0]?.id as string;

    const deployment = await waitFor(
      () => {
        const e = of("ECS Deployment State Change", serviceArn);
        return e.some((x) => x.event.detail.eventName === "SERVICE_DEPLOYMENT_COMPLETED") ? e : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "SERVICE_DEPLOYMENT_COMPLETED" },
    );
    expect(deployment.map((e) => e.event.detail.eventName)).toEqual([
      "SERVICE_DEPLOYMENT_IN_PROGRESS",
      "SERVICE_DEPLOYMENT_COMPLETED",
    ]);
    expect(deployment[0]!.subject).toBe(subjects.ecsEvent("us-east-1", "ECS Deployment State Change"));
    expect(deployment[0]!.event.detail).toMatchObject({
      eventType: "INFO",
      deploymentId,
      reason: `ECS deployment ${deploymentId} in progress.`,
    });
    expect(deployment[1]!.event.detail).toMatchObject({
      eventType: "INFO",
      deploymentId,
      reason: `ECS deployment ${deploymentId} completed.`,
    });
    expect(deployment[1]!.event.detail.updatedAt).toMatch(ISO_MS);
    const described = await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["evweb"] }));
    expect(described.services?.[0]?.deployments?.[0]?.rolloutState).toBe("COMPLETED");

    const steady = await waitFor(
      () => of("ECS Service Action", serviceArn).find((x) => x.event.detail.eventName === "SERVICE_STEADY_STATE"),
      { timeoutMs: 30_000, intervalMs: 200, what: "SERVICE_STEADY_STATE" },
    );
    expect(steady.subject).toBe(subjects.ecsEvent("us-east-1", "ECS Service Action"));
    expect(steady.event).toMatchObject({
      version: "0",
      source: "aws.ecs",
      region: "us-east-1",
      resources: [serviceArn],
    });
    expect(steady.event.detail).toMatchObject({
      eventType: "INFO",
      eventName: "SERVICE_STEADY_STATE",
      clusterArn: created.service?.clusterArn,
    });
    expect(steady.event.detail.createdAt).toMatch(ISO_MS);
    expect(steady.event.detail.version).toBeUndefined();
  });

  test("a service task that fits no instance yields SERVICE_TASK_PLACEMENT_FAILURE with ECS's reason", async () => {
    const r = await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "evhuge",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 4_000_000 }],
      }),
    );
    const created = await b.ecs.send(
      new CreateServiceCommand({
        cluster: b.cluster,
        serviceName: "evhuge",
        taskDefinition: r.taskDefinition?.taskDefinitionArn,
        desiredCount: 1,
      }),
    );
    const serviceArn = created.service?.serviceArn as string;
    const failure = await waitFor(
      () =>
        of("ECS Service Action", serviceArn).find((x) => x.event.detail.eventName === "SERVICE_TASK_PLACEMENT_FAILURE"),
      { timeoutMs: 30_000, intervalMs: 200, what: "SERVICE_TASK_PLACEMENT_FAILURE" },
    );
    const list = await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }));
    expect(failure.event.detail).toMatchObject({
      eventType: "ERROR",
      eventName: "SERVICE_TASK_PLACEMENT_FAILURE",
      clusterArn: created.service?.clusterArn,
      reason: "RESOURCE:MEMORY",
      containerInstanceArns: list.containerInstanceArns,
    });
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: "evhuge", force: true }));
  });

  test("an agent that re-registers (restart) yields a Container Instance State Change at the instance's new version", async () => {
    const list = await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }));
    const instanceArn = list.containerInstanceArns?.[0] as string;
    const describe = async () =>
      (
        await b.ecs.send(
          new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: [instanceArn] }),
        )
      ).containerInstances?.[0];
    const before = (await describe())?.version as number;

    await b.agent.stop();
    await b.startAgent();
    const after = await waitFor(
      async () => {
        const i = await describe();
        return i && (i.version as number) > before && i.agentConnected ? i : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "the instance to re-register" },
    );
    const events = await waitFor(
      () => {
        const e = of("ECS Container Instance State Change", instanceArn);
        return e.some((x) => x.event.detail.version === after.version) ? e : undefined;
      },
      { timeoutMs: 10_000, what: "the instance event at its new version" },
    );
    const versions = events.map((e) => e.event.detail.version as number);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    const last = events.find((e) => e.event.detail.version === after.version)!;
    expect(last.subject).toBe(subjects.ecsEvent("us-east-1", "ECS Container Instance State Change"));
    expect(last.event.detail).toMatchObject({
      containerInstanceArn: instanceArn,
      clusterArn: expect.stringContaining(`:cluster/${b.cluster}`),
      status: "ACTIVE",
      agentConnected: true,
      version: after.version,
    });
    expect(last.event.detail.updatedAt).toMatch(ISO_MS);
    expect(last.event.detail.registeredAt).toMatch(ISO_MS);
    const remaining = last.event.detail.remainingResources as { name: string; integerValue: number }[];
    expect(remaining.find((r) => r.name === "MEMORY")?.integerValue).toBeGreaterThan(0);
  });
});
