import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteAttributesCommand,
  DeleteServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListAttributesCommand,
  ListContainerInstancesCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  PutAttributesCommand,
  paginateListAttributes,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  TagResourceCommand,
  type Task,
  UntagResourceCommand,
  UpdateContainerInstancesStateCommand,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ORPHANED_REASON } from "../../services/control-plane/agents.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";
import { ACCOUNT, expectEcsError, nullPaths, rawCall } from "./api-contract.helpers.ts";

/**
 * The ECS API contract for container instances: agent-style registration over HTTP, draining,
 * attributes, tags, and deregistration (forced, with the scheduler replacing the instance's
 * service tasks) — driven with the real AWS SDK against a real agent.
 */

let b: BerthFixture;
let agentInstance: string;
const waiter = () => ({ client: b.ecs, minDelay: 1, maxDelay: 2, maxWaitTime: 90 });
const INSTANCE_ARN = new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/[^/]+/[0-9a-f]{32}$`);

beforeAll(async () => {
  b = await startBerth("t-apii");
  agentInstance = (await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster })))
    .containerInstanceArns?.[0] as string;
});
afterAll(async () => {
  await b?.close();
});

const resources = (cpu = 2048, memory = 2048) => [
  { name: "CPU", type: "INTEGER" as const, integerValue: cpu },
  { name: "MEMORY", type: "INTEGER" as const, integerValue: memory },
  { name: "PORTS", type: "STRINGSET" as const, stringSetValue: ["22"] },
];

async function registerHttpInstance(
  cluster: string,
  extra: Partial<ConstructorParameters<typeof RegisterContainerInstanceCommand>[0]> = {},
) {
  const r = await b.ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      totalResources: resources(),
      versionInfo: { agentVersion: "1.80.0" },
      ...extra,
    }),
  );
  return r.containerInstance?.containerInstanceArn as string;
}

async function registerTd(family: string) {
  await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        { name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 2 },
      ],
    }),
  );
}

describe("container instances", () => {
  test("RegisterContainerInstance registers agent-style over HTTP and re-registers by ARN", async () => {
    const cluster = uniqueName("reg");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const doc = JSON.stringify({
      instanceId: "i-0123456789abcdef0",
      availabilityZone: "us-east-1b",
      instanceType: "t3.micro",
      imageId: "ami-0abc",
      region: "us-east-1",
    });
    const r = await b.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster,
        instanceIdentityDocument: doc,
        instanceIdentityDocumentSignature: "sig",
        totalResources: resources(1024, 512),
        versionInfo: { agentVersion: "1.80.0", agentHash: "abc", dockerVersion: "DockerVersion: 24.0" },
        attributes: [{ name: "ecs.os-type", value: "linux" }, { name: "ecs.capability.task-eni" }],
        tags: [{ key: "fleet", value: "http" }],
      }),
    );
    const ci = r.containerInstance;
    expect(ci?.containerInstanceArn).toMatch(INSTANCE_ARN);
    expect(ci).toMatchObject({
      ec2InstanceId: "i-0123456789abcdef0",
      status: "ACTIVE",
      agentConnected: true,
      runningTasksCount: 0,
      pendingTasksCount: 0,
      version: 1,
      versionInfo: { agentVersion: "1.80.0", agentHash: "abc", dockerVersion: "DockerVersion: 24.0" },
      tags: [{ key: "fleet", value: "http" }],
    });
    expect(ci?.registeredAt).toBeInstanceOf(Date);
    expect(ci?.registeredResources?.find((x) => x.name === "CPU")).toEqual({
      name: "CPU",
      type: "INTEGER",
      doubleValue: 0,
      longValue: 0,
      integerValue: 1024,
    });
    expect(ci?.remainingResources?.find((x) => x.name === "MEMORY")?.integerValue).toBe(512);
    const attrs = Object.fromEntries((ci?.attributes ?? []).map((a) => [a.name, a.value ?? null]));
    expect(attrs).toMatchObject({
      "ecs.availability-zone": "us-east-1b",
      "ecs.instance-type": "t3.micro",
      "ecs.ami-id": "ami-0abc",
      "ecs.os-type": "linux",
      "ecs.capability.task-eni": null,
    });

    const again = await b.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster,
        containerInstanceArn: ci?.containerInstanceArn,
        totalResources: resources(2048, 512),
        versionInfo: { agentVersion: "1.81.0" },
      }),
    );
    expect(again.containerInstance?.containerInstanceArn).toBe(ci?.containerInstanceArn);
    expect(again.containerInstance?.version).toBe(2);
    expect(again.containerInstance?.versionInfo?.agentVersion).toBe("1.81.0");

    await expectEcsError(
      b.ecs.send(new RegisterContainerInstanceCommand({ cluster: uniqueName("none"), totalResources: resources() })),
      "ClusterNotFoundException",
    );
    await expectEcsError(
      b.ecs.send(new RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: "{oops" })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(
        new RegisterContainerInstanceCommand({
          cluster,
          containerInstanceArn: "arn:aws:ecs:us-east-1:000000000000:container-instance/other/0123",
        }),
      ),
      "InvalidParameterException",
    );
    const raw = await rawCall(b.endpoint, "DescribeContainerInstances", {
      cluster,
      containerInstances: [ci?.containerInstanceArn],
    });
    expect(nullPaths(raw.json)).toEqual([]);
    expect(typeof (raw.json.containerInstances as { registeredAt: unknown }[])[0]?.registeredAt).toBe("number");
  });

  test("UpdateContainerInstancesState drains and reactivates; only ACTIVE and DRAINING; unknown instances are failures", async () => {
    const cluster = uniqueName("state");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const arn = await registerHttpInstance(cluster);
    const missing = "f".repeat(32);
    const d = await b.ecs.send(
      new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arn, missing], status: "DRAINING" }),
    );
    expect(d.containerInstances?.map((c) => [c.containerInstanceArn, c.status])).toEqual([[arn, "DRAINING"]]);
    expect(d.containerInstances?.[0]?.tags).toEqual([]);
    expect(d.failures).toEqual([
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/${cluster}/${missing}`, reason: "MISSING" },
    ]);
    const listed = await b.ecs.send(new ListContainerInstancesCommand({ cluster, status: "DRAINING" }));
    expect(listed.containerInstanceArns).toEqual([arn]);
    const a = await b.ecs.send(
      new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arn], status: "ACTIVE" }),
    );
    expect(a.containerInstances?.[0]?.status).toBe("ACTIVE");
    await expectEcsError(
      b.ecs.send(
        new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arn], status: "REGISTERING" }),
      ),
      "InvalidParameterException",
      /ACTIVE or DRAINING/,
    );
    await expectEcsError(
      b.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster,
          containerInstances: Array(11).fill(arn),
          status: "ACTIVE",
        }),
      ),
      "InvalidParameterException",
    );
  });

  test("host ports a task holds show in remainingResources and keep a second copy off the instance", async () => {
    const cluster = uniqueName("ports");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const arn = await registerHttpInstance(cluster, {
      totalResources: [...resources(), { name: "PORTS_UDP", type: "STRINGSET", stringSetValue: [] }],
    });
    const family = uniqueName("ports-td");
    await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: "bridge",
        containerDefinitions: [
          {
            name: "web",
            image: TEST_IMAGE,
            memory: 16,
            portMappings: [
              { containerPort: 80, hostPort: 18080, protocol: "tcp" },
              { containerPort: 53, hostPort: 18053, protocol: "udp" },
            ],
          },
        ],
      }),
    );
    const describe = async () =>
      (await b.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }))).containerInstances?.[0];
    const remaining = async () => {
      const ci = await describe();
      const set = (name: string) =>
        [...(ci?.remainingResources?.find((x) => x.name === name)?.stringSetValue ?? [])].sort();
      return { tcp: set("PORTS"), udp: set("PORTS_UDP") };
    };
    // No task yet: only the ports the instance registered as reserved.
    expect(await remaining()).toEqual({ tcp: ["22"], udp: [] });
    const versionBefore = (await describe())?.version as number;

    const first = await b.ecs.send(new StartTaskCommand({ cluster, taskDefinition: family, containerInstances: [arn] }));
    expect(first.failures).toEqual([]);
    await waitFor(async () => (await remaining()).tcp.includes("18080"), {
      timeoutMs: 30_000,
      what: "the task's host port in remainingResources",
    });
    expect(await remaining()).toEqual({ tcp: ["18080", "22"], udp: ["18053"] });
    // As in ECS, a task placed on the instance is a change of the instance: its version moves.
    expect((await describe())?.version).toBe(versionBefore + 1);

    // The only instance holds port 18080: a second copy cannot be placed.
    const second = await b.ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }));
    expect(second.tasks).toEqual([]);
    expect(second.failures).toEqual([{ arn, reason: "RESOURCE:PORTS", detail: "TCP port 18080 already in use" }]);
  });

  test("attributes: put, list with filters and pages, delete; ECS's limits and errors", async () => {
    const cluster = uniqueName("attrs");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const arn = await registerHttpInstance(cluster, { attributes: [{ name: "ecs.os-type", value: "linux" }] });
    const id = arn.split("/").pop() as string;
    const put = await b.ecs.send(
      new PutAttributesCommand({
        cluster,
        attributes: [
          { name: "stack", value: "production", targetId: arn },
          { name: "rack", value: "r1", targetId: id, targetType: "container-instance" },
        ],
      }),
    );
    expect(put.attributes).toEqual([
      { name: "stack", value: "production", targetId: arn },
      { name: "rack", value: "r1", targetId: id, targetType: "container-instance" },
    ]);
    const stack = await b.ecs.send(
      new ListAttributesCommand({ cluster, targetType: "container-instance", attributeName: "stack" }),
    );
    expect(stack.attributes).toEqual([
      { name: "stack", value: "production", targetType: "container-instance", targetId: arn },
    ]);
    const byValue = await b.ecs.send(
      new ListAttributesCommand({
        cluster,
        targetType: "container-instance",
        attributeName: "rack",
        attributeValue: "r2",
      }),
    );
    expect(byValue.attributes).toEqual([]);
    const all: string[] = [];
    for await (const page of paginateListAttributes(
      { client: b.ecs, pageSize: 1 },
      { cluster, targetType: "container-instance" },
    )) {
      expect(page.attributes?.length).toBeLessThanOrEqual(1);
      all.push(...(page.attributes ?? []).map((a) => a.name as string));
    }
    expect(all.sort()).toEqual(["ecs.os-type", "rack", "stack"]);
    const filtered = await b.ecs.send(
      new ListContainerInstancesCommand({ cluster, filter: "attribute:stack == production" }),
    );
    expect(filtered.containerInstanceArns).toEqual([arn]);

    await expectEcsError(
      b.ecs.send(new PutAttributesCommand({ cluster, attributes: [{ name: "x", value: "y", targetId: id }] })),
      "InvalidParameterException",
      /targetType/,
    );
    await expectEcsError(
      b.ecs.send(
        new PutAttributesCommand({
          cluster,
          attributes: [{ name: "x", value: "y", targetId: "f".repeat(32), targetType: "container-instance" }],
        }),
      ),
      "TargetNotFoundException",
    );
    await expectEcsError(
      b.ecs.send(new PutAttributesCommand({ cluster, attributes: [{ name: "bad name!", value: "y", targetId: arn }] })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(new PutAttributesCommand({ cluster, attributes: [{ name: "v", value: " padded", targetId: arn }] })),
      "InvalidParameterException",
    );
    // Two custom attributes are set already: nine more make eleven.
    const nine = Array.from({ length: 9 }, (_, i) => ({ name: `a${i}`, value: "v", targetId: arn }));
    await expectEcsError(
      b.ecs.send(new PutAttributesCommand({ cluster, attributes: nine })),
      "AttributeLimitExceededException",
    );
    await expectEcsError(
      b.ecs.send(new PutAttributesCommand({ cluster, attributes: [...nine, ...nine.slice(0, 2)] })),
      "InvalidParameterException",
      /10/,
    );
    await expectEcsError(
      b.ecs.send(new ListAttributesCommand({ cluster, targetType: "container-instance", attributeValue: "x" })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(new ListAttributesCommand({ cluster: uniqueName("none"), targetType: "container-instance" })),
      "ClusterNotFoundException",
    );

    const del = await b.ecs.send(
      new DeleteAttributesCommand({ cluster, attributes: [{ name: "stack", targetId: arn }] }),
    );
    // ECS answers with the value the deleted attribute had (AWS CLI's delete-attributes example).
    expect(del.attributes).toEqual([{ name: "stack", targetId: arn, value: "production" }]);
    const left = await b.ecs.send(new ListAttributesCommand({ cluster, targetType: "container-instance" }));
    expect(left.attributes?.map((a) => a.name).sort()).toEqual(["ecs.os-type", "rack"]);
  });

  test("with include CONTAINER_INSTANCE_HEALTH an instance shows its container runtime's health, as its agent checks it", async () => {
    const look = (include?: ("TAGS" | "CONTAINER_INSTANCE_HEALTH")[]) =>
      b.ecs.send(new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: [agentInstance], include }));
    // The agent checks Docker before each heartbeat; the first report is recorded as it lands.
    const health = await waitFor(
      async () => {
        const h = (await look(["CONTAINER_INSTANCE_HEALTH"])).containerInstances?.[0]?.healthStatus;
        return h?.overallStatus === "OK" ? h : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the agent's runtime health reported" },
    );
    expect(health.details).toEqual([
      { type: "CONTAINER_RUNTIME", status: "OK", lastStatusChange: expect.any(Date) },
    ]);
    expect((await look()).containerInstances?.[0]?.healthStatus).toBeUndefined();
  });

  test("container instances are tagged by long ARN only", async () => {
    await b.ecs.send(new TagResourceCommand({ resourceArn: agentInstance, tags: [{ key: "role", value: "worker" }] }));
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: agentInstance }))).tags).toEqual([
      { key: "role", value: "worker" },
    ]);
    const d = await b.ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: b.cluster,
        containerInstances: [agentInstance],
        include: ["TAGS"],
      }),
    );
    expect(d.containerInstances?.[0]?.tags).toEqual([{ key: "role", value: "worker" }]);
    // Without include TAGS the member is still there, empty, as ECS writes it.
    const plain = await b.ecs.send(
      new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: [agentInstance] }),
    );
    expect(plain.containerInstances?.[0]?.tags).toEqual([]);
    await b.ecs.send(new UntagResourceCommand({ resourceArn: agentInstance, tagKeys: ["role"] }));
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: agentInstance }))).tags).toEqual([]);
    const short = `arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/${agentInstance.split("/").pop()}`;
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: short, tags: [{ key: "k", value: "v" }] })),
      "InvalidParameterException",
      "Long arn format",
    );
  });
});

describe("deregistration", () => {
  test("DeregisterContainerInstance needs force while tasks run; forced, the instance goes INACTIVE, its tasks STOPPED, and its service tasks are replaced", async () => {
    // An agent-style instance registered over HTTP takes the service's task while the real agent's is drained.
    const fake = await registerHttpInstance(b.cluster);
    await b.ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: b.cluster,
        containerInstances: [agentInstance],
        status: "DRAINING",
      }),
    );
    const family = uniqueName("dereg");
    await registerTd(family);
    const service = uniqueName("dereg-svc");
    let orphan: Task | undefined;
    try {
      await b.ecs.send(
        new CreateServiceCommand({ cluster: b.cluster, serviceName: service, taskDefinition: family, desiredCount: 1 }),
      );
      orphan = await waitFor(
        async () => {
          const arns =
            (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: service }))).taskArns ?? [];
          if (arns.length === 0) return undefined;
          const tasks = (await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }))).tasks ?? [];
          return tasks.find((t) => t.containerInstanceArn === fake);
        },
        { timeoutMs: 30_000, intervalMs: 200, what: "the service's task on the HTTP-registered instance" },
      );
    } finally {
      await b.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster: b.cluster,
          containerInstances: [agentInstance],
          status: "ACTIVE",
        }),
      );
    }

    await expectEcsError(
      b.ecs.send(new DeregisterContainerInstanceCommand({ cluster: b.cluster, containerInstance: fake })),
      "InvalidParameterException",
      /force/,
    );
    const gone = await b.ecs.send(
      new DeregisterContainerInstanceCommand({ cluster: b.cluster, containerInstance: fake, force: true }),
    );
    expect(gone.containerInstance).toMatchObject({ containerInstanceArn: fake, status: "INACTIVE" });
    // As in ECS, its task is moved to STOPPED, containers and all: orphaned, no longer accounted for.
    const stopped = (
      await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [orphan?.taskArn as string] }))
    ).tasks?.[0];
    expect(stopped).toMatchObject({
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      stopCode: "UserInitiated",
      stoppedReason: ORPHANED_REASON,
    });
    expect(stopped?.containers?.map((c) => c.lastStatus)).toEqual(["STOPPED"]);
    expect(gone.containerInstance).toMatchObject({ runningTasksCount: 0, pendingTasksCount: 0 });
    expect(
      (await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }))).containerInstanceArns,
    ).not.toContain(fake);

    await waitUntilServicesStable(waiter(), { cluster: b.cluster, services: [service] });
    const arns = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: service }))).taskArns ?? [];
    const live = (await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }))).tasks ?? [];
    expect(live.filter((t) => t.lastStatus === "RUNNING").map((t) => t.containerInstanceArn)).toEqual([agentInstance]);

    const start = await b.ecs.send(
      new StartTaskCommand({ cluster: b.cluster, taskDefinition: family, containerInstances: [fake] }),
    );
    expect(start.failures).toEqual([{ arn: fake, reason: "INACTIVE" }]);
    const state = await b.ecs.send(
      new UpdateContainerInstancesStateCommand({ cluster: b.cluster, containerInstances: [fake], status: "ACTIVE" }),
    );
    expect(state.failures?.[0]).toMatchObject({ arn: fake, reason: "INACTIVE" });
    await expectEcsError(
      b.ecs.send(new DeregisterContainerInstanceCommand({ cluster: b.cluster, containerInstance: "f".repeat(32) })),
      "InvalidParameterException",
    );
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service, force: true }));
  });
});
