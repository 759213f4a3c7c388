import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  PutClusterCapacityProvidersCommand,
  paginateListServices,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopServiceDeploymentCommand,
  StopTaskCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";
import { ACCOUNT, expectEcsError } from "./api-contract.helpers.ts";

/**
 * The ECS API contract for services: list paging (10 per page by default), tags by long ARN only,
 * the services-stable and services-inactive waiters, and service deployments and revisions —
 * driven with the real AWS SDK.
 */

let b: BerthFixture;
const waiter = () => ({ client: b.ecs, minDelay: 1, maxDelay: 2, maxWaitTime: 90 });

beforeAll(async () => {
  b = await startBerth("t-apis");
});
afterAll(async () => {
  await b?.close();
});

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

/**
 * The services-stable waiter, then the PRIMARY deployment's rollout COMPLETED: a rollout completes
 * once its tasks count as healthy (the fixture's 2 s after RUNNING), which the waiter does not wait for.
 */
async function settled(service: string) {
  await waitUntilServicesStable(waiter(), { cluster: b.cluster, services: [service] });
  await waitFor(
    async () => {
      const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] }))).services?.[0];
      return s?.deployments?.length === 1 && s.deployments[0]?.rolloutState === "COMPLETED" ? s : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `service ${service} rolled out` },
  );
}

/** A service of one task from a new task definition family, once rolled out. */
async function stableService(prefix: string): Promise<{ family: string; service: string }> {
  const family = uniqueName(prefix);
  await registerTd(family);
  const service = uniqueName(`${prefix}-svc`);
  await b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: service, taskDefinition: family, desiredCount: 1 }));
  await settled(service);
  return { family, service };
}

async function removeService(service: string) {
  await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service, desiredCount: 0 }));
  await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service }));
}

describe("services", () => {
  test("ListServices pages hold 10 by default; services are tagged by long ARN only", async () => {
    const cluster = uniqueName("svcs");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const family = uniqueName("svctd");
    await registerTd(family);
    const names = Array.from({ length: 11 }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
    for (const serviceName of names)
      await b.ecs.send(new CreateServiceCommand({ cluster, serviceName, taskDefinition: family, desiredCount: 0 }));
    const first = await b.ecs.send(new ListServicesCommand({ cluster }));
    expect(first.serviceArns).toHaveLength(10);
    expect(first.nextToken).toEqual(expect.any(String));
    const all: string[] = [];
    for await (const page of paginateListServices({ client: b.ecs }, { cluster }))
      all.push(...(page.serviceArns ?? []));
    expect(all).toEqual(names.map((n) => `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${cluster}/${n}`));
    await expectEcsError(
      b.ecs.send(new ListServicesCommand({ cluster, maxResults: 101 })),
      "InvalidParameterException",
    );

    const arn = all[0] as string;
    await b.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "tier", value: "web" }] }));
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { key: "tier", value: "web" },
    ]);
    const described = await b.ecs.send(
      new DescribeServicesCommand({ cluster, services: [names[0] as string], include: ["TAGS"] }),
    );
    expect(described.services?.[0]?.tags).toEqual([{ key: "tier", value: "web" }]);
    const short = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${names[0]}`;
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: short, tags: [{ key: "k", value: "v" }] })),
      "InvalidParameterException",
      "Long arn format must be used for tagging operations",
    );
    await expectEcsError(
      b.ecs.send(new ListTagsForResourceCommand({ resourceArn: short })),
      "InvalidParameterException",
      "Long arn format",
    );
    await expectEcsError(
      b.ecs.send(
        new TagResourceCommand({
          resourceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${cluster}/no-such-service`,
          tags: [{ key: "k", value: "v" }],
        }),
      ),
      "ResourceNotFoundException",
    );
    for (const service of names) await b.ecs.send(new DeleteServiceCommand({ cluster, service }));
  });

  test("a capacity provider strategy is echoed with weight and base, 0 when not given; tasks placed with it name the provider and their launch type", async () => {
    // An Auto Scaling group provider is associated with one cluster at most: one for each.
    const newProvider = async () => {
      const name = uniqueName("cp");
      const group = `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:1a2b3c4d-0000-0000-0000-000000000000:autoScalingGroupName/${name}`;
      await b.ecs.send(new CreateCapacityProviderCommand({ name, autoScalingGroupProvider: { autoScalingGroupArn: group } }));
      return name;
    };
    const provider = await newProvider();
    const cluster = uniqueName("cps");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    await b.ecs.send(new PutClusterCapacityProvidersCommand({ cluster, capacityProviders: [provider], defaultCapacityProviderStrategy: [] }));
    const family = uniqueName("cptd");
    await registerTd(family);
    const serviceName = uniqueName("cp-svc");
    const created = await b.ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName,
        taskDefinition: family,
        desiredCount: 0,
        capacityProviderStrategy: [{ capacityProvider: provider, weight: 1 }],
      }),
    );
    const echoed = [{ capacityProvider: provider, weight: 1, base: 0 }];
    expect(created.service?.capacityProviderStrategy).toEqual(echoed);
    expect(created.service?.launchType).toBeUndefined();
    expect(created.service?.deployments?.[0]?.capacityProviderStrategy).toEqual(echoed);
    const described = (await b.ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }))).services?.[0];
    expect(described?.capacityProviderStrategy).toEqual(echoed);
    // The same strategy with its defaults spelled out is no change: no new deployment.
    const same = await b.ecs.send(
      new UpdateServiceCommand({ cluster, service: serviceName, capacityProviderStrategy: [{ capacityProvider: provider, weight: 1, base: 0 }] }),
    );
    expect(same.service?.deployments?.map((d) => d.id)).toEqual(created.service?.deployments?.map((d) => d.id));
    const updated = await b.ecs.send(
      new UpdateServiceCommand({ cluster, service: serviceName, capacityProviderStrategy: [{ capacityProvider: provider, base: 1 }] }),
    );
    expect(updated.service?.capacityProviderStrategy).toEqual([{ capacityProvider: provider, weight: 0, base: 1 }]);
    expect(updated.service?.deployments).toHaveLength(2);
    await b.ecs.send(new DeleteServiceCommand({ cluster, service: serviceName, force: true }));

    // RunTask with a strategy: the task names its capacity provider and its launch type both.
    const forTasks = await newProvider();
    // Associated with no default strategy, it changes nothing for the other tests' tasks.
    await b.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: b.cluster, capacityProviders: [forTasks], defaultCapacityProviderStrategy: [] }));
    const run = await b.ecs.send(
      new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, capacityProviderStrategy: [{ capacityProvider: forTasks, weight: 1 }] }),
    );
    const task = run.tasks?.[0];
    expect([task?.capacityProviderName, task?.launchType]).toEqual([forTasks, "EC2"]);
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: task?.taskArn }));
  });

  test("a cluster's default capacity provider strategy runs what names neither a launch type nor a strategy; a provider not associated with the cluster is refused", async () => {
    const name = uniqueName("cpd");
    const group = `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:1a2b3c4d-0000-0000-0000-000000000000:autoScalingGroupName/${name}`;
    await b.ecs.send(new CreateCapacityProviderCommand({ name, autoScalingGroupProvider: { autoScalingGroupArn: group } }));
    const family = uniqueName("cpdtd");
    await registerTd(family);
    const notAssociated =
      /^The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster/;
    const strategy = [{ capacityProvider: name, weight: 1 }];
    await expectEcsError(
      b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: uniqueName("cpd-svc"), taskDefinition: family, desiredCount: 0, capacityProviderStrategy: strategy })),
      "InvalidParameterException",
      notAssociated,
    );
    await expectEcsError(
      b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, capacityProviderStrategy: strategy })),
      "InvalidParameterException",
      notAssociated,
    );

    // Added to those the cluster has (one may still hold a stopping task of another test).
    const associated = [...((await b.ecs.send(new DescribeClustersCommand({ clusters: [b.cluster] }))).clusters?.[0]?.capacityProviders ?? []), name];
    await b.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: b.cluster, capacityProviders: associated, defaultCapacityProviderStrategy: strategy }));
    try {
      const serviceName = uniqueName("cpd-svc");
      const created = await b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName, taskDefinition: family, desiredCount: 0 }));
      expect(created.service?.capacityProviderStrategy).toEqual([{ capacityProvider: name, weight: 1, base: 0 }]);
      expect(created.service?.launchType).toBeUndefined();
      // Under the launch type its tasks run with; not under the other.
      const listed = async (launchType: "EC2" | "FARGATE") =>
        (await b.ecs.send(new ListServicesCommand({ cluster: b.cluster, launchType, maxResults: 100 }))).serviceArns ?? [];
      expect(await listed("EC2")).toContain(created.service?.serviceArn);
      expect(await listed("FARGATE")).not.toContain(created.service?.serviceArn);
      await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: serviceName, force: true }));

      const byDefault = (await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family }))).tasks?.[0];
      expect([byDefault?.capacityProviderName, byDefault?.launchType]).toEqual([name, "EC2"]);
      // A launch type set on the call leaves the cluster's strategy aside.
      const byLaunchType = (await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family, launchType: "EC2" }))).tasks?.[0];
      expect([byLaunchType?.capacityProviderName, byLaunchType?.launchType]).toEqual([undefined, "EC2"]);
      for (const t of [byDefault, byLaunchType]) await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: t?.taskArn }));
    } finally {
      // The other tests' tasks and services name no launch type.
      await b.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: b.cluster, capacityProviders: associated, defaultCapacityProviderStrategy: [] }));
    }
  });

  test("services show their deployment controller, ECS by default", async () => {
    const family = uniqueName("ctrl");
    await registerTd(family);
    const service = uniqueName("ctrl-svc");
    const created = await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: service, taskDefinition: family, desiredCount: 0 }),
    );
    expect(created.service?.deploymentController).toEqual({ type: "ECS" });
    const described = await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] }));
    expect(described.services?.[0]?.deploymentController).toEqual({ type: "ECS" });
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service }));
  });

  test("CreateService answers with the tags it was given; DescribeServices shows them only with include TAGS", async () => {
    const family = uniqueName("ctags");
    await registerTd(family);
    const tagged = uniqueName("ctags-tagged");
    const created = await b.ecs.send(
      new CreateServiceCommand({
        cluster: b.cluster,
        serviceName: tagged,
        taskDefinition: family,
        desiredCount: 0,
        tags: [{ key: "team", value: "a" }],
      }),
    );
    expect(created.service?.tags).toEqual([{ key: "team", value: "a" }]);
    const plain = uniqueName("ctags-plain");
    const untagged = await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: plain, taskDefinition: family, desiredCount: 0 }),
    );
    expect(untagged.service?.tags).toBeUndefined();
    const described = await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [tagged] }));
    expect(described.services?.[0]?.tags).toBeUndefined();
    for (const service of [tagged, plain]) await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service }));
  });

  test("service deployments and revisions: listed newest first, described by ARN, with the service's current ones", async () => {
    const { family, service } = await stableService("deps");
    await registerTd(family);
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service, taskDefinition: `${family}:2` }));
    await settled(service);

    const listed = await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service }));
    const [second, first] = listed.serviceDeployments ?? [];
    const prefix = `arn:aws:ecs:us-east-1:${ACCOUNT}:service-deployment/${b.cluster}/${service}/`;
    expect(listed.serviceDeployments).toHaveLength(2);
    expect(second).toMatchObject({ status: "SUCCESSFUL", serviceDeploymentArn: expect.stringMatching(new RegExp(`^${prefix}\\d+$`)) });
    expect(first).toMatchObject({ status: "SUCCESSFUL" });
    expect(second?.startedAt?.getTime()).toBeGreaterThanOrEqual(first?.startedAt?.getTime() ?? Number.POSITIVE_INFINITY);
    expect(second?.finishedAt).toBeInstanceOf(Date);

    // Filters and pages.
    const page = await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service, maxResults: 1 }));
    expect(page.serviceDeployments?.map((d) => d.serviceDeploymentArn)).toEqual([second?.serviceDeploymentArn]);
    const rest = await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service, maxResults: 1, nextToken: page.nextToken }));
    expect(rest.serviceDeployments?.map((d) => d.serviceDeploymentArn)).toEqual([first?.serviceDeploymentArn]);
    expect(rest.nextToken).toBeUndefined();
    const none = await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service, status: ["ROLLBACK_FAILED", "IN_PROGRESS"] }));
    expect(none.serviceDeployments).toEqual([]);
    const older = await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service, createdAt: { before: second?.createdAt } }));
    expect(older.serviceDeployments?.map((d) => d.serviceDeploymentArn)).toEqual([first?.serviceDeploymentArn]);

    const missing = `${prefix}1234567890123456789`;
    const described = await b.ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [second?.serviceDeploymentArn as string, missing] }),
    );
    expect(described.failures).toEqual([{ arn: missing, reason: "MISSING" }]);
    const d = described.serviceDeployments?.[0];
    expect(d).toMatchObject({
      serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${b.cluster}/${service}`,
      status: "SUCCESSFUL",
      sourceServiceRevisions: [{ arn: first?.targetServiceRevisionArn, requestedTaskCount: 0, runningTaskCount: 0, pendingTaskCount: 0 }],
      targetServiceRevision: { arn: second?.targetServiceRevisionArn, requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0 },
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      deploymentCircuitBreaker: { status: "DISABLED", failureCount: 0 },
    });

    const revisions = await b.ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [first?.targetServiceRevisionArn as string, second?.targetServiceRevisionArn as string] }),
    );
    expect(revisions.failures).toEqual([]);
    expect(revisions.serviceRevisions?.map((r) => [r.taskDefinition, r.launchType, r.containerImages])).toEqual([
      [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:1`, "EC2", [{ containerName: "app", image: TEST_IMAGE }]],
      [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:2`, "EC2", [{ containerName: "app", image: TEST_IMAGE }]],
    ]);

    const svc = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] }))).services?.[0];
    expect(svc?.currentServiceDeployment).toBe(second?.serviceDeploymentArn);
    expect(svc?.currentServiceRevisions).toEqual([{ arn: second?.targetServiceRevisionArn, requestedTaskCount: 1, runningTaskCount: 1, pendingTaskCount: 0 }]);

    // Bad input: ECS's errors.
    await expectEcsError(b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service: uniqueName("ghost") })), "ServiceNotFoundException");
    await expectEcsError(b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service, maxResults: 101 })), "InvalidParameterException");
    await expectEcsError(b.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [] })), "InvalidParameterException");
    await expectEcsError(
      b.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: Array.from({ length: 21 }, (_, i) => `${missing}${i}`) })),
      "InvalidParameterException",
    );

    await removeService(service);
  });

  test("StopServiceDeployment rolls a deployment in progress back to the previous revision", async () => {
    const { family, service } = await stableService("stopdep");
    // A revision no instance can hold: its deployment stays in progress.
    const huge = await b.ecs.send(
      new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 10_000_000 }] }),
    );
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service, taskDefinition: huge.taskDefinition?.taskDefinitionArn }));
    const [ongoing] = (await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service }))).serviceDeployments ?? [];
    expect(ongoing?.status).toBe("IN_PROGRESS");
    const arn = ongoing?.serviceDeploymentArn as string;

    await expectEcsError(b.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: "ABORT" })), "InvalidParameterException", /ABORT/);
    const stopped = await b.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn }));
    expect(stopped.serviceDeploymentArn).toBe(arn);
    await settled(service);
    const svc = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] }))).services?.[0];
    expect(svc?.taskDefinition).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:1`);
    const [rolled] = (await b.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments ?? [];
    expect(rolled).toMatchObject({ status: "ROLLBACK_SUCCESSFUL", rollback: { reason: expect.stringMatching(/StopServiceDeployment/) } });
    const [revision] = (await b.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [rolled?.rollback?.serviceRevisionArn as string] })))
      .serviceRevisions ?? [];
    expect(revision?.taskDefinition).toBe(svc?.taskDefinition);
    // ECS makes no revision for a rollback: it runs the previous one, which the service shows as current.
    const first = (await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service }))).serviceDeployments?.at(-1);
    expect(rolled?.rollback?.serviceRevisionArn).toBe(first?.targetServiceRevisionArn);
    expect(rolled?.sourceServiceRevisions?.map((r) => r.arn)).toEqual([first?.targetServiceRevisionArn]);
    expect(svc?.currentServiceRevisions?.map((r) => r.arn)).toEqual([first?.targetServiceRevisionArn]);

    await expectEcsError(b.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn })), "ConflictException");
    await expectEcsError(
      b.ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: `${arn.slice(0, arn.lastIndexOf("/"))}/1` })),
      "ServiceDeploymentNotFoundException",
    );
    await removeService(service);
  });

  test("the services-stable and services-inactive waiters; a missing service fails the waiter", async () => {
    const family = uniqueName("stable");
    await registerTd(family);
    const service = uniqueName("stable-svc");
    await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: service, taskDefinition: family, desiredCount: 1 }),
    );
    const stable = await waitUntilServicesStable(waiter(), { cluster: b.cluster, services: [service] });
    expect(stable.state).toBe("SUCCESS");
    const svc = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] })))
      .services?.[0];
    expect(svc).toMatchObject({ status: "ACTIVE", desiredCount: 1, runningCount: 1, pendingCount: 0 });
    expect(svc?.deployments).toHaveLength(1);
    await expect(
      waitUntilServicesStable(
        { ...waiter(), maxWaitTime: 10 },
        { cluster: b.cluster, services: [uniqueName("ghost")] },
      ),
    ).rejects.toThrow();

    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service, desiredCount: 0 }));
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service }));
    const inactive = await waitUntilServicesInactive(waiter(), { cluster: b.cluster, services: [service] });
    expect(inactive.state).toBe("SUCCESS");
  });
});
