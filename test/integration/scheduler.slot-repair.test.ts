import {
  CreateClusterCommand,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { arns } from "../../events/arns.ts";
import { subjects } from "../../events/names.ts";
import { deploymentLaunchType } from "../../machines/account/capacity-providers.ts";
import { decideService, initialService } from "../../machines/service/service.decide.ts";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/control-plane.ts";
import { SLOT_IN_FLIGHT_MS } from "../../services/scheduler/scheduler.ts";
import { type Fleet, startFleet } from "../../services/sim/fleet.ts";
import { uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { readEventLog } from "../support/event-log.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The scheduler records the slots it places (ServiceTasksPlaced, on the service's subject) before
 * it creates their tasks. A scheduler that died in between leaves slots without tasks: once a
 * slot is past its in-flight window, the next reconcile creates exactly its task — same id, on
 * the slot's instance, with the launch type the deployment's tasks run with — and places nothing
 * more for it. Real nats-server, real control plane, a simulated fleet, the AWS SDK as client.
 */

const log = pino({ level: "silent" });
const region = "us-east-1";
const account = "000000000000";
const cluster = uniqueName("slot-repair");
const family = "slot-repair";
const awsvpc = { awsvpcConfiguration: { subnets: ["subnet-0abc1234"] } };
/** The control plane's clock runs this far ahead of the wall clock: time passing for it, on demand. */
let aheadMs = 0;
let nats: NatsServerHandle;
let cpConn: NatsConnection;
let simConn: NatsConnection;
let cp: ControlPlane;
let ecs: ECSClient;
let fleet: Fleet;

beforeAll(async () => {
  nats = await startNatsServer();
  cpConn = await connect({ servers: nats.url });
  simConn = await connect({ servers: nats.url });
  cp = await startControlPlane({
    nc: cpConn,
    log,
    port: 0,
    account,
    clock: () => Date.now() + aheadMs,
    lostAgentTimeoutMs: 120_000,
    // The lease is checked on the same clock: renewed every third of this, it stays held when the
    // clock moves ahead by the in-flight window.
    leaseTtlMs: 30_000,
  });
  ecs = ecsClient(cp.url, region);
  await ecs.send(new CreateClusterCommand({ clusterName: cluster, capacityProviders: ["FARGATE", "FARGATE_SPOT"] }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["EC2", "FARGATE"],
      cpu: "256",
      memory: "512",
      containerDefinitions: [{ name: "app", image: "berth-test/busybox:latest" }],
    }),
  );
  // Instances that offer both launch types, as agents started with --fargate.
  fleet = await startFleet({
    nc: simConn,
    log,
    region,
    cluster,
    instances: 3,
    capacity: ["EC2", "FARGATE"],
    startLatencyMs: 20,
  });
});

afterAll(async () => {
  await fleet?.stop();
  await cp?.stop();
  await simConn?.close();
  await cpConn?.close();
  await nats?.stop();
});

const cases: {
  name: string;
  service: Pick<CreateServiceCommandInput, "launchType" | "capacityProviderStrategy">;
  launchType: "EC2" | "FARGATE";
  capacityProvider?: string;
}[] = [
  { name: "ec2", service: { launchType: "EC2" }, launchType: "EC2" },
  {
    name: "fargate",
    service: { capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1 }] },
    launchType: "FARGATE",
    capacityProvider: "FARGATE",
  },
  {
    name: "fargate-spot",
    service: { capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }] },
    launchType: "FARGATE",
    capacityProvider: "FARGATE_SPOT",
  },
];

describe("a slot recorded by a scheduler that died before creating its task", () => {
  test.each(cases.map((c, i) => ({ ...c, instance: i })))(
    "$name: its task is created once, with its id, on its instance, as a $launchType task, and runs",
    async (c) => {
      const serviceName = `svc-${c.name}`;
      // Desired 0 first: the scheduler places nothing of its own before the slot is recorded.
      const created = await ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName,
          taskDefinition: family,
          desiredCount: 0,
          networkConfiguration: awsvpc,
          ...c.service,
        }),
      );
      const serviceArn = created.service?.serviceArn as string;
      const subject = subjects.service(region, cluster, serviceName);
      const deployment = cp.model.services.get(subject)?.snapshot.context.deployments[0];
      if (!deployment) throw new Error(`service ${serviceName} has no deployment in the read model`);
      // A capacity provider deployment names no launch type of its own: its strategy decides it.
      expect([deployment.launchType, deploymentLaunchType(deployment)]).toEqual([
        c.capacityProvider ? undefined : c.launchType,
        c.launchType,
      ]);

      const instance = fleet.instances[c.instance % fleet.instances.length];
      if (!instance) throw new Error("the fleet has no instances");
      const described = await ecs.send(
        new DescribeContainerInstancesCommand({ cluster, containerInstances: [instance.containerInstanceArn] }),
      );
      const availabilityZone = described.containerInstances?.[0]?.attributes?.find(
        (a) => a.name === "ecs.availability-zone",
      )?.value;

      // What the scheduler writes before it creates the task (Scheduler.place's record), fenced
      // on the service's sequence as read — and then no task, as if the process died right there.
      const taskId = cp.services.ids.hex32();
      const recorded = await cp.services.bus.execute({
        subject,
        resource: serviceArn,
        get: () => cp.model.services.get(subject),
        initial: initialService,
        decide: (state) =>
          decideService(
            {
              type: "RecordPlacement",
              at: cp.services.clock(),
              deploymentId: deployment.id,
              tasks: [
                {
                  taskId,
                  instanceId: instance.instanceId,
                  instanceArn: instance.containerInstanceArn,
                  ...(availabilityZone ? { availabilityZone } : {}),
                },
              ],
            },
            state,
          ),
        retry: false,
      });
      expect(recorded.ok).toBe(true);
      // The slot is in flight: the service wants one task and counts the slot as that one.
      await ecs.send(new UpdateServiceCommand({ cluster, service: serviceName, desiredCount: 1 }));

      // The slot's creator is gone for longer than the in-flight window; any event of the service
      // then wakes a reconcile that finds the slot still without its task.
      aheadMs += SLOT_IN_FLIGHT_MS;
      await ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: "woken", value: "yes" }] }));

      const taskArn = arns.task({ region, account }, cluster, taskId);
      const task = await waitFor(
        async () => {
          const t = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks?.[0];
          return t?.lastStatus === "RUNNING" ? t : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `the slot's task ${taskId} RUNNING` },
      );
      expect({
        containerInstanceArn: task.containerInstanceArn,
        availabilityZone: task.availabilityZone,
        launchType: task.launchType,
        capacityProviderName: task.capacityProviderName,
        group: task.group,
        startedBy: task.startedBy,
      }).toEqual({
        containerInstanceArn: instance.containerInstanceArn,
        availabilityZone,
        launchType: c.launchType,
        capacityProviderName: c.capacityProvider,
        group: `service:${serviceName}`,
        startedBy: deployment.id,
      });

      await waitFor(
        async () => {
          const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }))).services?.[0];
          return s?.runningCount === 1 && s.pendingCount === 0 ? s : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `service ${serviceName} with its one task RUNNING` },
      );
      expect((await ecs.send(new ListTasksCommand({ cluster, serviceName }))).taskArns).toEqual([taskArn]);
      // Every event of the task woke the service again on its way to RUNNING: still one creation,
      // and no slot placed but the recorded one.
      const events = await readEventLog(nats.url);
      const creations = events.filter(
        (e) => e.envelope.type === "TaskCreated" && e.envelope.data.group === `service:${serviceName}`,
      );
      expect(creations.map((e) => e.subject)).toEqual([subjects.task(region, cluster, taskId)]);
      expect(
        events
          .filter((e) => e.subject === subject && e.envelope.type === "ServiceTasksPlaced")
          .map((e) => e.envelope.data),
      ).toEqual([
        expect.objectContaining({ deploymentId: deployment.id, tasks: [expect.objectContaining({ taskId })] }),
      ]);
    },
  );
});
