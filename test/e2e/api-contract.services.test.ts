import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  paginateListServices,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { ACCOUNT, expectEcsError } from "./api-contract.helpers.ts";

/**
 * The ECS API contract for services: list paging (10 per page by default), tags by long ARN only,
 * and the services-stable and services-inactive waiters — driven with the real AWS SDK.
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
