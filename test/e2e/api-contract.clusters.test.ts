import {
  CreateClusterCommand,
  CreateTaskSetCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  ListClustersCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  paginateListClusters,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { ACCOUNT, expectEcsError, nullPaths, rawCall, UUID } from "./api-contract.helpers.ts";

/**
 * The ECS API contract for clusters, tags on clusters, task definitions and capacity providers, and
 * the wire itself (headers, JSON types, errors, regions, paging) — driven with the real AWS SDK.
 */

let b: BerthFixture;
beforeAll(async () => {
  b = await startBerth("t-apic");
});
afterAll(async () => {
  await b?.close();
});

const arnOf = (kind: string, path: string, region = "us-east-1", account = ACCOUNT) =>
  `arn:aws:ecs:${region}:${account}:${kind}/${path}`;

describe("the wire", () => {
  test("answers carry x-amzn-RequestId and the awsJson1_1 content type; timestamps are epoch-second numbers; nothing is null", async () => {
    const family = uniqueName("wire");
    const r = await rawCall(b.endpoint, "RegisterTaskDefinition", {
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 16 }],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-amzn-requestid")).toMatch(UUID);
    expect(r.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    const td = r.json.taskDefinition as Record<string, unknown>;
    expect(typeof td.registeredAt).toBe("number");
    expect(td.registeredAt as number).toBeLessThan(1e11); // seconds, not milliseconds
    expect(nullPaths(r.json)).toEqual([]);
    const d = await rawCall(b.endpoint, "DescribeClusters", {
      clusters: [b.cluster],
      include: ["STATISTICS", "SETTINGS", "TAGS"],
    });
    expect(nullPaths(d.json)).toEqual([]);
    const c = (d.json.clusters as Record<string, unknown>[])[0]!;
    for (const n of [
      "registeredContainerInstancesCount",
      "runningTasksCount",
      "pendingTasksCount",
      "activeServicesCount",
    ])
      expect(typeof c[n]).toBe("number");
    expect((c.statistics as { value: unknown }[]).every((s) => typeof s.value === "string")).toBe(true);
  });

  test("the region comes from the SigV4 credential scope and the ARNs are long-form", async () => {
    const eu = ecsClient(b.endpoint, "eu-west-1");
    const name = uniqueName("eu");
    const created = await eu.send(new CreateClusterCommand({ clusterName: name }));
    expect(created.cluster?.clusterArn).toBe(arnOf("cluster", name, "eu-west-1"));
    expect(created.$metadata.requestId).toMatch(UUID);
    const us = await b.ecs.send(new ListClustersCommand({}));
    expect(us.clusterArns).not.toContain(created.cluster?.clusterArn);
    expect(us.clusterArns).toContain(arnOf("cluster", b.cluster));
    const missing = await b.ecs.send(new DescribeClustersCommand({ clusters: [name] }));
    expect(missing.failures).toEqual([{ arn: arnOf("cluster", name), reason: "MISSING" }]);
    // Another account's ARN names a cluster this endpoint does not hold, whatever its name.
    const otherAccount = arnOf("cluster", b.cluster, "us-east-1", "111111111111");
    const other = await b.ecs.send(new DescribeClustersCommand({ clusters: [otherAccount] }));
    expect(other.clusters).toEqual([]);
    expect(other.failures).toEqual([{ arn: otherAccount, reason: "MISSING" }]);
    await expectEcsError(b.ecs.send(new ListServicesCommand({ cluster: otherAccount })), "ClusterNotFoundException");
    await eu.send(new DeleteClusterCommand({ cluster: name }));
  });

  test("unknown targets, unimplemented actions and malformed JSON get ECS-style errors", async () => {
    const unknown = await rawCall(b.endpoint, "Nope", {}, { target: "AmazonEC2ContainerServiceV20141113.Nope" });
    expect(unknown.status).toBe(400);
    expect(unknown.json.__type).toBe("UnknownOperationException");
    const bad = await rawCall(b.endpoint, "ListClusters", undefined, { rawBody: "{not json" });
    expect(bad.status).toBe(400);
    expect(bad.json.__type).toBe("SerializationException");
    expect(typeof bad.json.message).toBe("string");
    // A member of the wrong JSON type is not deserialized, as in ECS; the operation never runs.
    for (const [action, body, message] of [
      ["RunTask", { taskDefinition: "x", count: "2" }, "STRING_VALUE cannot be converted to Integer (member count)."],
      ["UpdateService", { service: "s", desiredCount: "5" }, "STRING_VALUE cannot be converted to Integer (member desiredCount)."],
      ["CreateCluster", { clusterName: 123 }, "NUMBER_VALUE cannot be converted to String (member clusterName)."],
      ["TagResource", { resourceArn: "arn", tags: {} }, "Start of structure or map found where not expected (member tags)."],
    ] as const) {
      const wrong = await rawCall(b.endpoint, action, body);
      expect(wrong.status, action).toBe(400);
      expect(wrong.json, action).toEqual({ __type: "SerializationException", message });
    }
    // null is a member not set.
    const nulls = await rawCall(b.endpoint, "ListClusters", { maxResults: null, nextToken: null });
    expect(nulls.status).toBe(200);
    await expectEcsError(
      b.ecs.send(new CreateTaskSetCommand({ service: "s", cluster: b.cluster, taskDefinition: "x" })),
      "UnsupportedFeatureException",
      "not supported by Berth",
    );
  });

  test("list paging: maxResults 1–100, opaque tokens, refused tokens and a full walk with the SDK paginator", async () => {
    const names = [uniqueName("pg"), uniqueName("pg"), uniqueName("pg")];
    for (const n of names) await b.ecs.send(new CreateClusterCommand({ clusterName: n }));
    await expectEcsError(
      b.ecs.send(new ListClustersCommand({ maxResults: 0 })),
      "InvalidParameterException",
      /maxResults/,
    );
    await expectEcsError(
      b.ecs.send(new ListClustersCommand({ maxResults: 101 })),
      "InvalidParameterException",
      /maxResults/,
    );
    await expectEcsError(
      b.ecs.send(new ListClustersCommand({ nextToken: "garbage" })),
      "InvalidParameterException",
      /nextToken/,
    );
    const first = await b.ecs.send(new ListClustersCommand({ maxResults: 1 }));
    expect(first.clusterArns).toHaveLength(1);
    expect(first.nextToken).toEqual(expect.any(String));
    const all: string[] = [];
    for await (const page of paginateListClusters({ client: b.ecs, pageSize: 1 }, {})) {
      expect(page.clusterArns?.length).toBeLessThanOrEqual(1);
      all.push(...(page.clusterArns ?? []));
    }
    for (const n of names) expect(all).toContain(arnOf("cluster", n));
    expect(new Set(all).size).toBe(all.length);
    const last = await rawCall(b.endpoint, "ListClusters", { maxResults: 100 });
    expect("nextToken" in last.json).toBe(false);
    for (const n of names) await b.ecs.send(new DeleteClusterCommand({ cluster: n }));
  });
});

describe("clusters", () => {
  test("DescribeClusters: counts always, statistics/settings/tags/configuration only when included", async () => {
    const plain = (await b.ecs.send(new DescribeClustersCommand({ clusters: [b.cluster] }))).clusters?.[0];
    expect(plain).toMatchObject({
      clusterArn: arnOf("cluster", b.cluster),
      clusterName: b.cluster,
      status: "ACTIVE",
      registeredContainerInstancesCount: 1,
      runningTasksCount: expect.any(Number),
      pendingTasksCount: expect.any(Number),
      activeServicesCount: expect.any(Number),
      statistics: [],
      tags: [],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    });
    expect(plain?.settings).toBeUndefined();
    expect(plain?.configuration).toBeUndefined();
    const full = (
      await b.ecs.send(
        new DescribeClustersCommand({
          clusters: [arnOf("cluster", b.cluster)],
          include: ["STATISTICS", "SETTINGS", "TAGS", "CONFIGURATIONS", "ATTACHMENTS"],
        }),
      )
    ).clusters?.[0];
    expect(full?.statistics?.map((s) => s.name).sort()).toEqual(
      [
        "activeEC2ServiceCount",
        "activeFargateServiceCount",
        "drainingEC2ServiceCount",
        "drainingFargateServiceCount",
        "pendingEC2TasksCount",
        "pendingFargateTasksCount",
        "runningEC2TasksCount",
        "runningFargateTasksCount",
      ].sort(),
    );
    expect(full?.settings).toEqual([{ name: "containerInsights", value: "disabled" }]);
    expect(full?.attachments).toEqual([]);
  });

  test("UpdateClusterSettings and UpdateCluster change settings and configuration", async () => {
    const name = uniqueName("upd");
    await b.ecs.send(new CreateClusterCommand({ clusterName: name }));
    const s = await b.ecs.send(
      new UpdateClusterSettingsCommand({ cluster: name, settings: [{ name: "containerInsights", value: "enhanced" }] }),
    );
    expect(s.cluster?.settings).toEqual([{ name: "containerInsights", value: "enhanced" }]);
    const u = await b.ecs.send(
      new UpdateClusterCommand({
        cluster: arnOf("cluster", name),
        settings: [{ name: "containerInsights", value: "enabled" }],
        configuration: { executeCommandConfiguration: { logging: "DEFAULT" } },
      }),
    );
    expect(u.cluster?.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
    expect(u.cluster?.configuration).toEqual({ executeCommandConfiguration: { logging: "DEFAULT" } });
    const d = await b.ecs.send(
      new DescribeClustersCommand({ clusters: [name], include: ["CONFIGURATIONS", "SETTINGS"] }),
    );
    expect(d.clusters?.[0]?.configuration?.executeCommandConfiguration?.logging).toBe("DEFAULT");
    expect(d.clusters?.[0]?.settings?.[0]?.value).toBe("enabled");

    await expectEcsError(
      b.ecs.send(
        new UpdateClusterSettingsCommand({
          cluster: name,
          settings: [{ name: "containerInsights", value: "sometimes" }],
        }),
      ),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(
        new UpdateClusterCommand({
          cluster: name,
          configuration: { executeCommandConfiguration: { logging: "OVERRIDE" } },
        }),
      ),
      "InvalidParameterException",
      /logConfiguration/,
    );
    await expectEcsError(
      b.ecs.send(new UpdateClusterCommand({ cluster: name, serviceConnectDefaults: { namespace: "ns-x" } })),
      "NamespaceNotFoundException",
    );
    await expectEcsError(
      b.ecs.send(new UpdateClusterSettingsCommand({ cluster: uniqueName("none"), settings: [] })),
      "ClusterNotFoundException",
      "Cluster not found.",
    );
    await b.ecs.send(new DeleteClusterCommand({ cluster: name }));
    await expectEcsError(b.ecs.send(new UpdateClusterCommand({ cluster: name })), "ClusterNotFoundException");
  });
});

describe("tags on clusters, task definitions and capacity providers", () => {
  test("TagResource merges, UntagResource removes, ListTagsForResource lists; ECS's refusals", async () => {
    const name = uniqueName("tags");
    const clusterArn = (
      await b.ecs.send(new CreateClusterCommand({ clusterName: name, tags: [{ key: "a", value: "1" }] }))
    ).cluster?.clusterArn as string;
    await b.ecs.send(
      new TagResourceCommand({
        resourceArn: clusterArn,
        tags: [
          { key: "a", value: "2" },
          { key: "b", value: "" },
        ],
      }),
    );
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: clusterArn }))).tags).toEqual([
      { key: "a", value: "2" },
      { key: "b", value: "" },
    ]);
    await b.ecs.send(new UntagResourceCommand({ resourceArn: clusterArn, tagKeys: ["a", "not-there"] }));
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: clusterArn }))).tags).toEqual([
      { key: "b", value: "" },
    ]);
    const described = await b.ecs.send(new DescribeClustersCommand({ clusters: [name], include: ["TAGS"] }));
    expect(described.clusters?.[0]?.tags).toEqual([{ key: "b", value: "" }]);

    const family = uniqueName("tagtd");
    const td = (
      await b.ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 16 }],
        }),
      )
    ).taskDefinition?.taskDefinitionArn as string;
    await b.ecs.send(new TagResourceCommand({ resourceArn: td, tags: [{ key: "owner", value: "me" }] }));
    expect((await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: td }))).tags).toEqual([
      { key: "owner", value: "me" },
    ]);

    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: "not-an-arn", tags: [] })),
      "InvalidParameterException",
      /ARN/,
    );
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/x`, tags: [] })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(
        new TagResourceCommand({ resourceArn: arnOf("cluster", uniqueName("gone")), tags: [{ key: "k", value: "v" }] }),
      ),
      "ClusterNotFoundException",
    );
    await expectEcsError(
      b.ecs.send(
        new TagResourceCommand({
          resourceArn: arnOf("task-definition", `${family}:9`),
          tags: [{ key: "k", value: "v" }],
        }),
      ),
      "ResourceNotFoundException",
    );
    await expectEcsError(
      b.ecs.send(new ListTagsForResourceCommand({ resourceArn: arnOf("task-definition", `${family}:9`) })),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: clusterArn, tags: [{ key: "aws:reserved", value: "x" }] })),
      "InvalidParameterException",
    );
    const fifty = Array.from({ length: 49 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    await b.ecs.send(new TagResourceCommand({ resourceArn: clusterArn, tags: fifty }));
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: clusterArn, tags: [{ key: "one-too-many", value: "v" }] })),
      "LimitExceededException",
    );

    expect(
      (await b.ecs.send(new ListTagsForResourceCommand({ resourceArn: arnOf("capacity-provider", "FARGATE") }))).tags,
    ).toEqual([]);
    await b.ecs.send(new DeleteClusterCommand({ cluster: name }));
    // A deleted (INACTIVE) cluster is an invalid parameter to the tagging calls, not a missing cluster.
    const inactive = "The specified cluster is inactive. Specify an active cluster and try again.";
    await expectEcsError(b.ecs.send(new ListTagsForResourceCommand({ resourceArn: clusterArn })), "InvalidParameterException", inactive);
    await expectEcsError(
      b.ecs.send(new TagResourceCommand({ resourceArn: clusterArn, tags: [{ key: "k", value: "v" }] })),
      "InvalidParameterException",
      inactive,
    );
    await expectEcsError(b.ecs.send(new UntagResourceCommand({ resourceArn: clusterArn, tagKeys: ["b"] })), "InvalidParameterException", inactive);
    await expectEcsError(
      b.ecs.send(new ListTagsForResourceCommand({ resourceArn: arnOf("service", `${name}/web`) })),
      "InvalidParameterException",
      inactive,
    );
  });
});
