import { randomUUID } from "node:crypto";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  DiscoverPollEndpointCommand,
  ListContainerInstancesCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  SubmitAttachmentStateChangesCommand,
  SubmitContainerStateChangeCommand,
  SubmitTaskStateChangeCommand,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { ACCOUNT, expectEcsError } from "./api-contract.helpers.ts";

/**
 * The ECS agent's operations over HTTP: an instance registered with RegisterContainerInstance
 * reports its tasks' states with Submit*StateChange, and DiscoverPollEndpoint names Berth's own
 * endpoint — driven with the real AWS SDK.
 */

let b: BerthFixture;
let instanceArn: string;
const waiter = () => ({ client: b.ecs, minDelay: 1, maxDelay: 2, maxWaitTime: 90 });

beforeAll(async () => {
  b = await startBerth("t-apig");
  instanceArn = (await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster })))
    .containerInstanceArns?.[0] as string;
});
afterAll(async () => {
  await b?.close();
});

async function register(family: string, memory = 16, extra: Record<string, unknown> = {}) {
  const r = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory, stopTimeout: 2 }],
      ...extra,
    }),
  );
  return r.taskDefinition?.taskDefinitionArn as string;
}

describe("the agent operations over HTTP", () => {
  test("an instance registered over HTTP reports its tasks' states with Submit*StateChange", async () => {
    const cluster = uniqueName("agentapi");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const reg = await b.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster,
        totalResources: [
          { name: "CPU", type: "INTEGER", integerValue: 1024 },
          { name: "MEMORY", type: "INTEGER", integerValue: 1024 },
        ],
        attributes: [{ name: "ecs.capability.task-eni" }],
        versionInfo: { agentVersion: "1.80.0" },
      }),
    );
    const instance = reg.containerInstance?.containerInstanceArn as string;
    const family = uniqueName("submit");
    await register(family);
    const awsvpc = uniqueName("submitvpc");
    await register(awsvpc, 16, { networkMode: "awsvpc" });
    // Both tasks are placed right away, while the registration's connectivity holds (no heartbeats come from here).
    const started = await b.ecs.send(
      new StartTaskCommand({ cluster, taskDefinition: family, containerInstances: [instance] }),
    );
    const vpc = await b.ecs.send(
      new StartTaskCommand({
        cluster,
        taskDefinition: awsvpc,
        containerInstances: [instance],
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
      }),
    );
    const vpc2 = await b.ecs.send(
      new StartTaskCommand({
        cluster,
        taskDefinition: awsvpc,
        containerInstances: [instance],
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-2"] } },
      }),
    );
    const arn = started.tasks?.[0]?.taskArn as string;
    const vpcArn = vpc.tasks?.[0]?.taskArn as string;
    const vpc2Arn = vpc2.tasks?.[0]?.taskArn as string;
    expect(vpc.tasks?.[0]?.lastStatus).toBe("PROVISIONING");
    expect(vpc.tasks?.[0]?.attachments?.map((a) => a.status)).toEqual(["PRECREATED"]);

    const ack = await b.ecs.send(
      new SubmitContainerStateChangeCommand({
        cluster,
        task: arn,
        containerName: "app",
        status: "RUNNING",
        runtimeId: "c0ffee",
        networkBindings: [{ bindIP: "0.0.0.0", containerPort: 80, hostPort: 32768, protocol: "tcp" }],
      }),
    );
    expect(ack.acknowledgment).toBe("ACK");
    await waitUntilTasksRunning({ ...waiter() }, { cluster, tasks: [arn] });
    const running = (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks?.[0];
    expect(running?.containers?.[0]).toMatchObject({
      lastStatus: "RUNNING",
      runtimeId: "c0ffee",
      networkBindings: [{ bindIP: "0.0.0.0", containerPort: 80, hostPort: 32768, protocol: "tcp" }],
    });
    expect(running?.startedAt).toBeInstanceOf(Date);

    await b.ecs.send(
      new SubmitTaskStateChangeCommand({
        cluster,
        task: arn,
        status: "STOPPED",
        containers: [{ containerName: "app", status: "STOPPED", exitCode: 3 }],
        pullStartedAt: new Date(),
      }),
    );
    await waitUntilTasksStopped(waiter(), { cluster, tasks: [arn] });
    const stopped = (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks?.[0];
    expect(stopped?.stopCode).toBe("EssentialContainerExited");
    expect(stopped?.containers?.[0]?.exitCode).toBe(3);

    const attachmentArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:attachment/${randomUUID()}`;
    await b.ecs.send(
      new SubmitTaskStateChangeCommand({ cluster, task: vpcArn, attachments: [{ attachmentArn, status: "ATTACHED" }] }),
    );
    const attached = (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [vpcArn] }))).tasks?.[0];
    expect(attached?.lastStatus).toBe("PENDING");
    // The agent's id for the interface takes the place of the one announced; its subnet stays.
    expect(attached?.attachments).toHaveLength(1);
    expect(attached?.attachments?.[0]).toMatchObject({
      details: [{ name: "subnetId", value: "subnet-1" }],
      id: attachmentArn.split("/").pop(),
      type: "ElasticNetworkInterface",
      status: "ATTACHED",
    });
    const detached = await b.ecs.send(
      new SubmitAttachmentStateChangesCommand({ cluster, attachments: [{ attachmentArn, status: "DETACHED" }] }),
    );
    expect(detached.acknowledgment).toBe("ACK");
    expect(
      (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [vpcArn] }))).tasks?.[0]?.attachments?.[0]?.status,
    ).toBe("DETACHED");
    // Stopped with its interface already let go, the task is STOPPED at once and the interface DELETED.
    await b.ecs.send(new SubmitTaskStateChangeCommand({ cluster, task: vpcArn, status: "STOPPED" }));
    const vpcStopped = (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [vpcArn] }))).tasks?.[0];
    expect([vpcStopped?.lastStatus, vpcStopped?.attachments?.[0]?.status]).toEqual(["STOPPED", "DELETED"]);

    // Its containers stopped while the agent holds the interface, a task is DEPROVISIONING; the
    // agent reporting it STOPPED, ECS lets the interface go: DELETED, the task STOPPED.
    const attachment2 = `arn:aws:ecs:us-east-1:${ACCOUNT}:attachment/${randomUUID()}`;
    await b.ecs.send(
      new SubmitTaskStateChangeCommand({ cluster, task: vpc2Arn, attachments: [{ attachmentArn: attachment2, status: "ATTACHED" }] }),
    );
    await b.ecs.send(new SubmitContainerStateChangeCommand({ cluster, task: vpc2Arn, containerName: "app", status: "STOPPED", exitCode: 0 }));
    const deprovisioning = (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [vpc2Arn] }))).tasks?.[0];
    expect([deprovisioning?.lastStatus, deprovisioning?.desiredStatus, deprovisioning?.attachments?.[0]?.status]).toEqual([
      "DEPROVISIONING",
      "STOPPED",
      "ATTACHED",
    ]);
    expect(deprovisioning?.executionStoppedAt).toBeInstanceOf(Date);
    await b.ecs.send(new SubmitTaskStateChangeCommand({ cluster, task: vpc2Arn, status: "STOPPED" }));
    const vpc2Stopped = (await b.ecs.send(new DescribeTasksCommand({ cluster, tasks: [vpc2Arn] }))).tasks?.[0];
    expect([vpc2Stopped?.lastStatus, vpc2Stopped?.attachments?.[0]?.status]).toEqual(["STOPPED", "DELETED"]);
    expect(vpc2Stopped?.attachments?.[0]?.details).toEqual([{ name: "subnetId", value: "subnet-2" }]);

    await expectEcsError(
      b.ecs.send(
        new SubmitAttachmentStateChangesCommand({
          cluster,
          attachments: [{ attachmentArn: `${attachmentArn}0`, status: "DETACHED" }],
        }),
      ),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(
        new SubmitContainerStateChangeCommand({ cluster, task: arn, containerName: "nope", status: "RUNNING" }),
      ),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(
        new SubmitContainerStateChangeCommand({ cluster, task: arn, containerName: "app", status: "DANCING" }),
      ),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(new SubmitTaskStateChangeCommand({ cluster, task: "0".repeat(32), status: "RUNNING" })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(new SubmitTaskStateChangeCommand({ cluster: uniqueName("none"), task: arn, status: "RUNNING" })),
      "ClusterNotFoundException",
    );
  });

  test("DiscoverPollEndpoint names Berth's own endpoint", async () => {
    const r = await b.ecs.send(new DiscoverPollEndpointCommand({ cluster: b.cluster, containerInstance: instanceArn }));
    expect(r).toMatchObject({
      endpoint: `${b.endpoint}/`,
      telemetryEndpoint: `${b.endpoint}/`,
      serviceConnectEndpoint: `${b.endpoint}/`,
    });
    await expectEcsError(
      b.ecs.send(new DiscoverPollEndpointCommand({ cluster: b.cluster, containerInstance: "not-an-id" })),
      "InvalidParameterException",
    );
  });
});
