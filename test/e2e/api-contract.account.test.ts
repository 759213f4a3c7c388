import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DeleteAccountSettingCommand,
  DeleteCapacityProviderCommand,
  DeleteClusterCommand,
  DescribeCapacityProvidersCommand,
  ListAccountSettingsCommand,
  paginateListAccountSettings,
  PutAccountSettingCommand,
  PutAccountSettingDefaultCommand,
  PutClusterCapacityProvidersCommand,
  UpdateCapacityProviderCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { startNatsServer } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { spawnBerth } from "../support/processes.ts";
import { ACCOUNT, expectEcsError, rawCall } from "./api-contract.helpers.ts";

/**
 * The ECS API contract for the account-wide resources of a region — capacity providers and
 * account settings — and for the account id every ARN carries, driven with the real AWS SDK.
 */

let b: BerthFixture;
beforeAll(async () => {
  b = await startBerth("t-apia");
});
afterAll(async () => {
  await b?.close();
});

const arnOf = (kind: string, path: string, region = "us-east-1", account = ACCOUNT) =>
  `arn:aws:ecs:${region}:${account}:${kind}/${path}`;

describe("capacity providers", () => {
  const asg = (n: string) =>
    `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:1a2b3c4d-0000-0000-0000-000000000000:autoScalingGroupName/${n}`;

  test("FARGATE and FARGATE_SPOT are always described; Auto Scaling group providers are created, updated, associated and deleted", async () => {
    const all = await b.ecs.send(new DescribeCapacityProvidersCommand({}));
    const names = all.capacityProviders?.map((p) => p.name);
    expect(names).toContain("FARGATE");
    expect(names).toContain("FARGATE_SPOT");
    expect(all.capacityProviders?.find((p) => p.name === "FARGATE")).toMatchObject({
      capacityProviderArn: arnOf("capacity-provider", "FARGATE"),
      status: "ACTIVE",
    });

    const name = uniqueName("cp");
    const created = await b.ecs.send(
      new CreateCapacityProviderCommand({
        name,
        autoScalingGroupProvider: {
          autoScalingGroupArn: asg(name),
          managedScaling: { status: "ENABLED", targetCapacity: 80 },
        },
        tags: [{ key: "team", value: "infra" }],
      }),
    );
    expect(created.capacityProvider).toMatchObject({
      capacityProviderArn: arnOf("capacity-provider", name),
      name,
      status: "ACTIVE",
      autoScalingGroupProvider: {
        autoScalingGroupArn: asg(name),
        managedScaling: {
          status: "ENABLED",
          targetCapacity: 80,
          minimumScalingStepSize: 1,
          maximumScalingStepSize: 10000,
          instanceWarmupPeriod: 300,
        },
        managedTerminationProtection: "DISABLED",
      },
      updateStatus: "CREATE_COMPLETE",
      tags: [{ key: "team", value: "infra" }],
    });
    expect(created.capacityProvider?.updateStatusReason).toMatch(/no Auto Scaling groups/);

    await expectEcsError(
      b.ecs.send(
        new CreateCapacityProviderCommand({
          name,
          autoScalingGroupProvider: { autoScalingGroupArn: asg(`${name}-2`) },
        }),
      ),
      "ClientException",
      /already exists/,
    );
    await expectEcsError(
      b.ecs.send(
        new CreateCapacityProviderCommand({
          name: "ecs-mine",
          autoScalingGroupProvider: { autoScalingGroupArn: asg("x") },
        }),
      ),
      "InvalidParameterException",
      /prefixed/,
    );
    await expectEcsError(
      b.ecs.send(new CreateCapacityProviderCommand({ name: `${name}-x` })),
      "InvalidParameterException",
    );

    const updated = await b.ecs.send(
      new UpdateCapacityProviderCommand({
        name,
        autoScalingGroupProvider: { managedScaling: { targetCapacity: 50 }, managedDraining: "ENABLED" },
      }),
    );
    expect(updated.capacityProvider?.autoScalingGroupProvider?.managedScaling?.targetCapacity).toBe(50);
    expect(updated.capacityProvider?.autoScalingGroupProvider?.managedDraining).toBe("ENABLED");
    expect(updated.capacityProvider?.updateStatus).toBe("UPDATE_COMPLETE");

    const cluster = uniqueName("cpc");
    await b.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    await expectEcsError(
      b.ecs.send(
        new PutClusterCapacityProvidersCommand({
          cluster,
          capacityProviders: ["FARGATE"],
          defaultCapacityProviderStrategy: [{ capacityProvider: name, weight: 1 }],
        }),
      ),
      "InvalidParameterException",
      /not associated with the cluster/,
    );
    await expectEcsError(
      b.ecs.send(
        new PutClusterCapacityProvidersCommand({
          cluster,
          capacityProviders: ["nope-provider"],
          defaultCapacityProviderStrategy: [],
        }),
      ),
      "InvalidParameterException",
    );
    const put = await b.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster,
        capacityProviders: [name],
        defaultCapacityProviderStrategy: [{ capacityProvider: name, weight: 1 }],
      }),
    );
    expect(put.cluster?.capacityProviders).toEqual([name]);
    expect(put.cluster?.defaultCapacityProviderStrategy).toEqual([{ capacityProvider: name, weight: 1, base: 0 }]);
    const inCluster = await b.ecs.send(new DescribeCapacityProvidersCommand({ cluster, include: ["TAGS"] }));
    expect(inCluster.capacityProviders?.map((p) => p.name)).toEqual([name]);
    expect(inCluster.capacityProviders?.[0]?.tags).toEqual([{ key: "team", value: "infra" }]);

    // Deleting an associated provider is not an error: it stays ACTIVE with updateStatus DELETE_FAILED.
    const refused = await b.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: name }));
    expect(refused.capacityProvider).toMatchObject({ name, status: "ACTIVE", updateStatus: "DELETE_FAILED" });
    expect(refused.capacityProvider?.updateStatusReason).toBe(
      `The capacity provider cannot be deleted because it is associated with cluster: ${cluster}. Remove the capacity provider from the cluster and try again.`,
    );
    await expectEcsError(
      b.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: "FARGATE" })),
      "InvalidParameterException",
      /reserved/,
    );
    await b.ecs.send(
      new PutClusterCapacityProvidersCommand({ cluster, capacityProviders: [], defaultCapacityProviderStrategy: [] }),
    );
    const deleted = await b.ecs.send(
      new DeleteCapacityProviderCommand({ capacityProvider: arnOf("capacity-provider", name) }),
    );
    expect(deleted.capacityProvider).toMatchObject({ name, status: "INACTIVE", updateStatus: "DELETE_COMPLETE" });
    const after = await b.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: [name, "never-made"] }));
    expect(after.capacityProviders?.[0]?.status).toBe("INACTIVE");
    expect(after.failures).toEqual([{ arn: arnOf("capacity-provider", "never-made"), reason: "MISSING" }]);
    await b.ecs.send(new DeleteClusterCommand({ cluster }));
  });

  test("DescribeCapacityProviders pages hold 1–10 providers", async () => {
    await expectEcsError(
      b.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 11 })),
      "InvalidParameterException",
      /maxResults/,
    );
    const first = await b.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 1 }));
    expect(first.capacityProviders).toHaveLength(1);
    expect(first.nextToken).toEqual(expect.any(String));
    const next = await b.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 1, nextToken: first.nextToken }));
    expect(next.capacityProviders?.[0]?.name).not.toBe(first.capacityProviders?.[0]?.name);
  });
});

describe("account settings", () => {
  const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
  const USER = `arn:aws:iam::${ACCOUNT}:user/contract-tests`;

  test("Put, list (own and effective), default and delete", async () => {
    const put = await b.ecs.send(
      new PutAccountSettingCommand({ name: "awsvpcTrunking", value: "enabled", principalArn: USER }),
    );
    expect(put.setting).toEqual({ name: "awsvpcTrunking", value: "enabled", principalArn: USER, type: "user" });
    const own = await b.ecs.send(new ListAccountSettingsCommand({ principalArn: USER }));
    expect(own.settings).toEqual([{ name: "awsvpcTrunking", value: "enabled", principalArn: USER, type: "user" }]);

    const def = await b.ecs.send(new PutAccountSettingDefaultCommand({ name: "containerInsights", value: "enhanced" }));
    expect(def.setting).toEqual({ name: "containerInsights", value: "enhanced", principalArn: ROOT, type: "user" });
    const effective: { name?: string; value?: string; principalArn?: string }[] = [];
    for await (const page of paginateListAccountSettings(
      { client: b.ecs, pageSize: 4 },
      { principalArn: USER, effectiveSettings: true },
    )) {
      expect(page.settings?.length).toBeLessThanOrEqual(4);
      effective.push(...(page.settings ?? []));
    }
    expect(effective).toHaveLength(11);
    expect(effective.find((s) => s.name === "containerInsights")).toMatchObject({
      value: "enhanced",
      principalArn: ROOT,
    });
    expect(effective.find((s) => s.name === "awsvpcTrunking")).toMatchObject({ value: "enabled", principalArn: USER });
    expect(effective.find((s) => s.name === "taskLongArnFormat")?.value).toBe("enabled");
    expect(effective.find((s) => s.name === "guardDutyActivate")).toMatchObject({ type: "aws_managed" });

    const filtered = await b.ecs.send(
      new ListAccountSettingsCommand({ effectiveSettings: true, name: "containerInsights", value: "enhanced" }),
    );
    expect(filtered.settings).toEqual([
      { name: "containerInsights", value: "enhanced", principalArn: ROOT, type: "user" },
    ]);
    // New clusters take Container Insights from the account default unless they name their own.
    const insightful = uniqueName("ci");
    const made = await b.ecs.send(new CreateClusterCommand({ clusterName: insightful }));
    expect(made.cluster?.settings).toEqual([{ name: "containerInsights", value: "enhanced" }]);
    await b.ecs.send(new DeleteClusterCommand({ cluster: insightful }));

    const del = await b.ecs.send(new DeleteAccountSettingCommand({ name: "awsvpcTrunking", principalArn: USER }));
    expect(del.setting).toMatchObject({ name: "awsvpcTrunking", value: "enabled", principalArn: USER });
    expect((await b.ecs.send(new ListAccountSettingsCommand({ principalArn: USER }))).settings).toEqual([]);
    await b.ecs.send(new PutAccountSettingDefaultCommand({ name: "containerInsights", value: "disabled" }));
  });

  test("refusals: opted-out long ARNs, read-only settings, bad values, value without name, page size", async () => {
    await expectEcsError(
      b.ecs.send(new PutAccountSettingCommand({ name: "serviceLongArnFormat", value: "disabled" })),
      "InvalidParameterException",
      /opt-out/,
    );
    await expectEcsError(
      b.ecs.send(new PutAccountSettingCommand({ name: "guardDutyActivate", value: "on" })),
      "InvalidParameterException",
      /read-only/,
    );
    await expectEcsError(
      b.ecs.send(new PutAccountSettingDefaultCommand({ name: "fargateTaskRetirementWaitPeriod", value: "3" })),
      "InvalidParameterException",
      /Valid values/,
    );
    await expectEcsError(
      b.ecs.send(
        new PutAccountSettingCommand({
          name: "containerInsights",
          value: "enabled",
          principalArn: "arn:aws:iam::999999999999:root",
        }),
      ),
      "InvalidParameterException",
    );
    await expectEcsError(
      b.ecs.send(new ListAccountSettingsCommand({ value: "enabled" })),
      "InvalidParameterException",
      /name/,
    );
    await expectEcsError(
      b.ecs.send(new ListAccountSettingsCommand({ maxResults: 11 })),
      "InvalidParameterException",
      /maxResults/,
    );
    await expectEcsError(
      b.ecs.send(new DeleteAccountSettingCommand({ name: "awsvpcTrunking", principalArn: USER })),
      "InvalidParameterException",
    );
    const r = await rawCall(b.endpoint, "PutAccountSetting", { name: "noSuchSetting", value: "on" });
    expect(r.json.__type).toBe("InvalidParameterException");
  });
});

describe("the account id", () => {
  test("BERTH_ACCOUNT_ID is the account of every ARN and of the root principal", async () => {
    const nats = await startNatsServer();
    const port = await freePort();
    const server = spawnBerth(["server", "--nats", nats.url, "--port", String(port)], {
      name: `${uniqueName("acct")}-server`,
      env: { BERTH_ACCOUNT_ID: "123456789012", BERTH_LOG_FORMAT: "json" },
    });
    try {
      const endpoint = `http://127.0.0.1:${port}`;
      await server.waitForHttp(`${endpoint}/health`, 60_000);
      const ecs = ecsClient(endpoint);
      const c = await ecs.send(new CreateClusterCommand({ clusterName: "acct" }));
      expect(c.cluster?.clusterArn).toBe("arn:aws:ecs:us-east-1:123456789012:cluster/acct");
      const s = await ecs.send(new PutAccountSettingDefaultCommand({ name: "awsvpcTrunking", value: "enabled" }));
      expect(s.setting?.principalArn).toBe("arn:aws:iam::123456789012:root");
      const p = await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ["FARGATE"] }));
      expect(p.capacityProviders?.[0]?.capacityProviderArn).toBe(
        "arn:aws:ecs:us-east-1:123456789012:capacity-provider/FARGATE",
      );
    } finally {
      await server.stop();
      await nats.stop();
    }
  });
});
