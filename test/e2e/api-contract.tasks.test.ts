import { randomUUID } from "node:crypto";
import {
  type ConflictException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  GetTaskProtectionCommand,
  ListContainerInstancesCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  type ListTasksCommandInput,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StartTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  type Task,
  UntagResourceCommand,
  UpdateTaskProtectionCommand,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";
import { ACCOUNT, expectEcsError, UUID } from "./api-contract.helpers.ts";

/**
 * The ECS API contract for tasks: StartTask on named instances, RunTask idempotency, task tags,
 * task scale-in protection and the tasks-running / tasks-stopped waiters — driven with the real
 * AWS SDK against a real agent.
 */

let b: BerthFixture;
let instanceArn: string;
const waiter = () => ({ client: b.ecs, minDelay: 1, maxDelay: 2, maxWaitTime: 90 });

beforeAll(async () => {
  b = await startBerth("t-apit");
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

const TASK_ARN = new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:task/[^/]+/[0-9a-f]{32}$`);

describe("StartTask", () => {
  test("starts one task on the named instance; the tasks-running and tasks-stopped waiters see it through", async () => {
    const family = uniqueName("start");
    const td = await register(family);
    const r = await b.ecs.send(
      new StartTaskCommand({
        cluster: b.cluster,
        taskDefinition: family,
        containerInstances: [instanceArn.split("/").pop() as string],
        startedBy: "contract/start",
      }),
    );
    expect(r.failures).toEqual([]);
    const t = r.tasks?.[0] as Task;
    expect(t).toMatchObject({
      clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${b.cluster}`,
      containerInstanceArn: instanceArn,
      taskDefinitionArn: td,
      lastStatus: "PENDING",
      desiredStatus: "RUNNING",
      launchType: "EC2",
      group: `family:${family}`,
      startedBy: "contract/start",
      version: 1,
      memory: "16",
      cpu: "0",
    });
    expect(t.taskArn).toMatch(TASK_ARN);
    expect(t.createdAt).toBeInstanceOf(Date);
    expect(t.stoppedAt).toBeUndefined();
    expect(t.containers?.[0]).toMatchObject({
      name: "app",
      lastStatus: "PENDING",
      memory: "16",
      cpu: "0",
      taskArn: t.taskArn,
    });

    const running = await waitUntilTasksRunning(waiter(), { cluster: b.cluster, tasks: [t.taskArn as string] });
    expect(running.state).toBe("SUCCESS");
    const counted = (await b.ecs.send(new DescribeClustersCommand({ clusters: [b.cluster], include: ["STATISTICS"] })))
      .clusters?.[0];
    expect(counted).toMatchObject({ runningTasksCount: 1, pendingTasksCount: 0 });
    expect(counted?.statistics).toContainEqual({ name: "runningEC2TasksCount", value: "1" });
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: t.taskArn, reason: "contract test" }));
    const stopped = await waitUntilTasksStopped(waiter(), { cluster: b.cluster, tasks: [t.taskArn as string] });
    expect(stopped.state).toBe("SUCCESS");
    const done = await b.task(t.taskArn as string);
    expect(done.stopCode).toBe("UserInitiated");
    expect(done.stoppedAt).toBeInstanceOf(Date);
  });

  test("an instance that cannot take the task is a failure with ECS's reason; bad requests are refused", async () => {
    const family = uniqueName("huge");
    await register(family, 4_000_000);
    const unknownId = randomUUID().replace(/-/g, "");
    const r = await b.ecs.send(
      new StartTaskCommand({
        cluster: b.cluster,
        taskDefinition: family,
        containerInstances: [instanceArn, unknownId],
      }),
    );
    expect(r.tasks).toEqual([]);
    expect(r.failures).toEqual([
      { arn: instanceArn, reason: "RESOURCE:MEMORY", detail: expect.stringContaining("MiB") },
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/${b.cluster}/${unknownId}`, reason: "MISSING" },
    ]);
    await expectEcsError(
      b.ecs.send(new StartTaskCommand({ cluster: b.cluster, taskDefinition: family, containerInstances: [] })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(
        new StartTaskCommand({
          cluster: b.cluster,
          taskDefinition: family,
          containerInstances: Array(11).fill(instanceArn),
        }),
      ),
      "InvalidParameterException",
      /10/,
    );
    await expectEcsError(
      b.ecs.send(
        new StartTaskCommand({
          cluster: b.cluster,
          taskDefinition: family,
          containerInstances: [instanceArn],
          startedBy: "x".repeat(37),
        }),
      ),
      "InvalidParameterException",
      /startedBy/,
    );
    await expectEcsError(
      b.ecs.send(
        new StartTaskCommand({
          cluster: uniqueName("none"),
          taskDefinition: family,
          containerInstances: [instanceArn],
        }),
      ),
      "ClusterNotFoundException",
    );
    await expectEcsError(
      b.ecs.send(
        new StartTaskCommand({
          cluster: b.cluster,
          taskDefinition: uniqueName("nofamily"),
          containerInstances: [instanceArn],
        }),
      ),
      "ClientException",
    );
  });
});

describe("RunTask's placement members", () => {
  test("a constraint or strategy ECS's model does not allow is refused before anything is placed, as CreateService refuses it", async () => {
    const family = uniqueName("place");
    await register(family);
    const listed = async () =>
      (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, family, desiredStatus: "RUNNING" }))).taskArns ?? [];
    const refusals: [Pick<RunTaskCommandInput, "placementConstraints" | "placementStrategy">, string][] = [
      [{ placementStrategy: [{ type: "binpack", field: "disk" }] }, "binpack needs field cpu or memory."],
      [{ placementStrategy: [{ type: "spread" }] }, "spread needs a field: instanceId, host or attribute:<name>."],
      [{ placementConstraints: [{ type: "distinctInstance", expression: "x == y" }] }, "distinctInstance does not take an expression."],
      [{ placementConstraints: [{ type: "memberOf", expression: "bogus ~~ x" }] }, "Invalid expression at position 1"],
    ];
    for (const [members, message] of refusals) {
      await expectEcsError(b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, ...members })), "InvalidParameterException", message);
      await expectEcsError(
        b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: uniqueName("place"), taskDefinition: family, desiredCount: 1, ...members })),
        "InvalidParameterException",
        message,
      );
    }
    expect(await listed()).toEqual([]);
  });
});

describe("RunTask idempotency and task tags", () => {
  test("the same clientToken and parameters give the same tasks; other parameters are a ConflictException naming them", async () => {
    const family = uniqueName("idem");
    await register(family);
    const token = `tok-${randomUUID()}`;
    const first = await b.ecs.send(
      new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, clientToken: token, startedBy: "idem" }),
    );
    const again = await b.ecs.send(
      new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, clientToken: token, startedBy: "idem" }),
    );
    const arn = first.tasks?.[0]?.taskArn as string;
    expect(arn).toMatch(TASK_ARN);
    expect(again.tasks?.map((t) => t.taskArn)).toEqual([arn]);
    const err = (await expectEcsError(
      b.ecs.send(
        new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, clientToken: token, startedBy: "other" }),
      ),
      "ConflictException",
    )) as unknown as ConflictException;
    expect(err.resourceIds).toEqual([arn]);
    await expectEcsError(
      b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, clientToken: "x".repeat(65) })),
      "InvalidParameterException",
    );
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn }));
  });

  test("tasks are tagged by long ARN; the short ARN is refused; a stopped task has no tags and is refused", async () => {
    const family = uniqueName("tagtask");
    await register(family);
    const run = await b.ecs.send(
      new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, tags: [{ key: "run", value: "1" }] }),
    );
    const arn = run.tasks?.[0]?.taskArn as string;
    // Placed on an instance, the task is CONNECTED from its creation, while still PENDING.
    const pending = run.tasks?.[0];
    expect([pending?.lastStatus, pending?.connectivity, pending?.connectivityAt]).toEqual(["PENDING", "CONNECTED", pending?.createdAt]);
    await b.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "extra", value: "yes" }] }));
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { key: "run", value: "1" },
      { key: "extra", value: "yes" },
    ]);
    await b.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["run"] }));
    const described = await b.ecs.send(
      new DescribeTasksCommand({ cluster: b.cluster, tasks: [arn], include: ["TAGS"] }),
    );
    expect(described.tasks?.[0]?.tags).toEqual([{ key: "extra", value: "yes" }]);
    const plain = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [arn] }));
    // Without include TAGS, ECS still writes the member, as an empty list.
    expect(plain.tasks?.[0]?.tags).toEqual([]);
    // ECS managed tags: a standalone task gets its cluster's name.
    const managed = await b.ecs.send(
      new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, enableECSManagedTags: true, tags: [{ key: "run", value: "2" }] }),
    );
    const managedArn = managed.tasks?.[0]?.taskArn as string;
    const withManaged = await b.ecs.send(
      new DescribeTasksCommand({ cluster: b.cluster, tasks: [managedArn], include: ["TAGS"] }),
    );
    expect(withManaged.tasks?.[0]?.tags).toEqual([
      { key: "run", value: "2" },
      { key: "aws:ecs:clusterName", value: b.cluster },
    ]);
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: managedArn }));

    const short = `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${arn.split("/").pop()}`;
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: short, tags: [{ key: "k", value: "v" }] })),
      "InvalidParameterException",
      "Long arn format must be used for tagging operations",
    );
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: `${arn.slice(0, -4)}ffff`, tags: [{ key: "k", value: "v" }] })),
      "ResourceNotFoundException",
    );
    const stopped = await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn }));
    expect(stopped.task?.tags).toEqual([]);
    await waitUntilTasksStopped(waiter(), { cluster: b.cluster, tasks: [arn] });
    // ECS answers every tagging call on a stopped task so (seen from ListTagsForResource and UntagResource).
    const isStopped = "The specified task is stopped. Specify a running task and try again.";
    await expectEcsError(b.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn })), "InvalidParameterException", isStopped);
    await expectEcsError(b.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["extra"] })), "InvalidParameterException", isStopped);
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "k", value: "v" }] })),
      "InvalidParameterException",
      isStopped,
    );
  });
});

describe("a task definition that does not exist", () => {
  test("each action refuses it in its own words, as ECS does", async () => {
    const missing = uniqueName("absent");
    const runIt = (taskDefinition: string) => b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition }));
    await expectEcsError(runIt(missing), "ClientException", /^TaskDefinition not found\.$/);
    await expectEcsError(runIt(`${missing}:3`), "ClientException", /^TaskDefinition not found\.$/);
    await expectEcsError(
      b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: missing, taskDefinition: missing, desiredCount: 1 })),
      "ClientException",
      /^TaskDefinition not found\.$/,
    );
    await expectEcsError(
      b.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${missing}:1` })),
      "ClientException",
      /^Unable to describe task definition\.$/,
    );
    await expectEcsError(
      b.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: `${missing}:1` })),
      "ClientException",
      /^The specified task definition does not exist\.$/,
    );
  });
});

describe("ListTasks", () => {
  test("the default listing agrees with a filtered one, in creation order, pages included; a stopped task leaves it", async () => {
    const family = uniqueName("list");
    await register(family);
    const r = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, count: 4 }));
    const ours = (r.tasks ?? []).map((t) => t.taskArn as string);
    expect(ours).toHaveLength(4);
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: ours[1], reason: "listing" }));
    const pages = async (input: Record<string, unknown>) => {
      const all: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, maxResults: 2, nextToken, ...input }));
        all.push(...(page.taskArns ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return all;
    };
    const running = [ours[0], ours[2], ours[3]];
    // The default listing (no filter) comes from the cluster's index of tasks meant to run; the
    // family filter scans every task. Both list ours in the order they were created.
    expect((await pages({})).filter((a) => ours.includes(a))).toEqual(running);
    expect(await pages({ family })).toEqual(running);
    expect(await pages({ family, desiredStatus: "STOPPED" })).toEqual([ours[1]]);
    expect(await pages({ desiredStatus: "STOPPED" })).toContain(ours[1]);
    for (const arn of running) await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn }));
    expect((await pages({})).filter((a) => ours.includes(a))).toEqual([]);
  });
});

describe("DescribeTasks' identifiers", () => {
  test("a value of no task id's length is refused; an id that names no task is MISSING", async () => {
    const describeTasks = (tasks: string[]) => b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks }));
    // What `--query taskArns[0] --output text` hands the next command when the list was empty.
    await expectEcsError(describeTasks(["None"]), "InvalidParameterException", /^taskId length should be one of \[32,36\]$/);
    const missing = randomUUID().replace(/-/g, "");
    await expectEcsError(describeTasks([missing, "abc"]), "InvalidParameterException", /^taskId length should be one of \[32,36\]$/);
    expect((await describeTasks([missing])).failures).toEqual([
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${b.cluster}/${missing}`, reason: "MISSING" },
    ]);
  });
});

describe("ListTasks' filters that go alone", () => {
  test("startedBy takes no other filter, serviceName no family or instance; desiredStatus goes with either", async () => {
    const family = uniqueName("alone");
    await register(family);
    const run = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, startedBy: "alone" }));
    const arn = run.tasks?.[0]?.taskArn as string;
    const list = (filters: Partial<ListTasksCommandInput>) => b.ecs.send(new ListTasksCommand({ cluster: b.cluster, ...filters }));
    expect((await list({ startedBy: "alone", desiredStatus: "RUNNING" })).taskArns).toEqual([arn]);
    for (const other of [{ family }, { launchType: "EC2" as const }, { serviceName: "web" }, { containerInstance: instanceArn }])
      await expectEcsError(list({ startedBy: "alone", ...other }), "InvalidParameterException", /^cannot specify startedBy with other arguments$/);
    for (const other of [{ family }, { containerInstance: instanceArn }])
      await expectEcsError(list({ serviceName: "web", ...other }), "InvalidParameterException", /^cannot specify serviceName with other arguments$/);
    // With desiredStatus only, the service is looked for (this one never existed).
    await expectEcsError(list({ serviceName: uniqueName("never"), desiredStatus: "STOPPED" }), "ServiceNotFoundException");
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn }));
  });
});

describe("an awsvpc task's network interface", () => {
  test("PRECREATED in its subnet when the task is run, ATTACHED under the same id with its address and private DNS name, DELETED once the task stopped", async () => {
    const family = uniqueName("vpc");
    await register(family, 16, { networkMode: "awsvpc" });
    const run = await b.ecs.send(
      new RunTaskCommand({
        cluster: b.cluster,
        taskDefinition: family,
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0d0eab1b"] } },
      }),
    );
    const created = run.tasks?.[0];
    const arn = created?.taskArn as string;
    expect(created?.lastStatus).toBe("PROVISIONING");
    expect(created?.attachments).toEqual([
      {
        id: expect.stringMatching(UUID),
        type: "ElasticNetworkInterface",
        status: "PRECREATED",
        details: [{ name: "subnetId", value: "subnet-0d0eab1b" }],
      },
    ]);
    await waitUntilTasksRunning(waiter(), { cluster: b.cluster, tasks: [arn] });
    const eni = (await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [arn] }))).tasks?.[0]?.attachments?.[0];
    expect([eni?.id, eni?.status]).toEqual([created?.attachments?.[0]?.id, "ATTACHED"]);
    expect(eni?.details?.map((d) => d.name)).toEqual([
      "subnetId",
      "networkInterfaceId",
      "macAddress",
      "privateDnsName",
      "privateIPv4Address",
    ]);
    const detail = (name: string) => eni?.details?.find((d) => d.name === name)?.value as string;
    expect(detail("privateDnsName")).toBe(`ip-${detail("privateIPv4Address").replaceAll(".", "-")}.ec2.internal`);

    // Stopped, the task let its interface go (DEPROVISIONING): it ends DELETED, its details kept.
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn }));
    await waitUntilTasksStopped(waiter(), { cluster: b.cluster, tasks: [arn] });
    const stopped = (await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [arn] }))).tasks?.[0];
    expect(stopped?.attachments).toEqual([{ ...eni, status: "DELETED" }]);
    expect(stopped?.executionStoppedAt?.getTime()).toBeLessThanOrEqual(stopped?.stoppedAt?.getTime() as number);
  });
});

describe("task scale-in protection", () => {
  test("service tasks are protected for 120 minutes by default; standalone tasks are TASK_NOT_VALID", async () => {
    const family = uniqueName("prot");
    await register(family);
    const service = uniqueName("prot-svc");
    await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: service, taskDefinition: family, desiredCount: 1 }),
    );
    const arn = await waitFor(
      async () => (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: service }))).taskArns?.[0],
      { timeoutMs: 30_000, intervalMs: 200, what: `a task of service ${service}` },
    );
    // The service by its ARN lists the same; a service the cluster never had is ECS's ServiceNotFoundException.
    const byArn = await b.ecs.send(
      new ListTasksCommand({ cluster: b.cluster, serviceName: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${b.cluster}/${service}` }),
    );
    expect(byArn.taskArns).toEqual([arn]);
    await expectEcsError(
      b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: uniqueName("never") })),
      "ServiceNotFoundException",
      "Service not found.",
    );
    const before = Date.now();
    const on = await b.ecs.send(
      new UpdateTaskProtectionCommand({ cluster: b.cluster, tasks: [arn], protectionEnabled: true }),
    );
    const after = Date.now();
    expect(on.failures).toEqual([]);
    expect(on.protectedTasks?.[0]).toMatchObject({ taskArn: arn, protectionEnabled: true });
    const exp = on.protectedTasks?.[0]?.expirationDate?.getTime() as number;
    expect(exp).toBeGreaterThanOrEqual(before + 120 * 60_000 - 1_000);
    expect(exp).toBeLessThanOrEqual(after + 120 * 60_000 + 1_000);
    const got = await b.ecs.send(new GetTaskProtectionCommand({ cluster: b.cluster, tasks: [arn] }));
    expect(got.protectedTasks).toEqual(on.protectedTasks);

    const longer = await b.ecs.send(
      new UpdateTaskProtectionCommand({
        cluster: b.cluster,
        tasks: [arn],
        protectionEnabled: true,
        expiresInMinutes: 2880,
      }),
    );
    expect(longer.protectedTasks?.[0]?.expirationDate?.getTime()).toBeGreaterThan(exp);
    await expectEcsError(
      b.ecs.send(
        new UpdateTaskProtectionCommand({
          cluster: b.cluster,
          tasks: [arn],
          protectionEnabled: true,
          expiresInMinutes: 2881,
        }),
      ),
      "InvalidParameterException",
      /2880/,
    );
    const off = await b.ecs.send(
      new UpdateTaskProtectionCommand({ cluster: b.cluster, tasks: [arn], protectionEnabled: false }),
    );
    expect(off.protectedTasks).toEqual([{ taskArn: arn, protectionEnabled: false }]);

    const solo = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family }));
    const soloArn = solo.tasks?.[0]?.taskArn as string;
    const missing = randomUUID().replace(/-/g, "");
    const r = await b.ecs.send(
      new UpdateTaskProtectionCommand({ cluster: b.cluster, tasks: [soloArn, missing], protectionEnabled: true }),
    );
    expect(r.protectedTasks).toEqual([]);
    expect(r.failures).toEqual([
      { arn: soloArn, reason: "TASK_NOT_VALID", detail: expect.any(String) },
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/${b.cluster}/${missing}`, reason: "MISSING" },
    ]);
    await expectEcsError(
      b.ecs.send(new GetTaskProtectionCommand({ cluster: uniqueName("none"), tasks: [arn] })),
      "ClusterNotFoundException",
    );
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: soloArn }));
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service, force: true }));
  });
});
