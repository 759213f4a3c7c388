import { describe, expect, test } from "vitest";
import type { AccountEvent, CapacityProviderCreated } from "../../events/account.events.ts";
import {
  type AccountCommand,
  type AccountSnapshot,
  decideAccount,
  evolveAccount,
  foldAccount,
  initialAccount,
  PROVIDER_EXISTS,
} from "../../machines/account/account.decide.ts";
import {
  effectiveSetting,
  listSettings,
  rootArn,
  SETTING_DEFAULTS,
  validPrincipal,
} from "../../machines/account/account.settings.ts";
import {
  deploymentLaunchType,
  newAutoScalingGroupProvider,
  strategyLaunchType,
  strategyToRun,
  updatedAutoScalingGroupProvider,
  validateManagedScaling,
  validateProviderName,
  validateStrategy,
} from "../../machines/account/capacity-providers.ts";
import { specFor } from "../support/decider-spec.ts";

const account = specFor<AccountSnapshot, AccountCommand, AccountEvent>({
  initial: initialAccount,
  evolve: evolveAccount,
  decide: decideAccount,
});

const ROOT = rootArn("123456789012");
const USER = "arn:aws:iam::123456789012:user/alice";
const setting = (over: Partial<Extract<AccountCommand, { type: "PutSetting" }>>): AccountCommand => ({
  type: "PutSetting",
  at: 1,
  name: "containerInsights",
  value: "enabled",
  principalArn: USER,
  viaDefault: false,
  forRoot: false,
  ...over,
});

describe("account settings decider", () => {
  test("PutSetting records a value once; setting the same value again changes nothing", () => {
    const e: AccountEvent = {
      type: "AccountSettingPut",
      at: 1,
      name: "containerInsights",
      value: "enabled",
      principalArn: USER,
    };
    account.given([]).when(setting({})).thenEvents([e]);
    account
      .given([e])
      .when(setting({ at: 2 }))
      .thenEvents([]);
    account
      .given([e])
      .when(setting({ at: 2, value: "enhanced" }))
      .thenTypes(["AccountSettingPut"]);
  });

  test("values outside a setting's set, read-only and opted-out settings are refused in ECS's terms", () => {
    account
      .given([])
      .when(setting({ value: "on" }))
      .rejects("InvalidParameterException", /Valid values: enabled, disabled, enhanced/);
    account
      .given([])
      .when(setting({ name: "guardDutyActivate", value: "on" }))
      .rejects("InvalidParameterException", /read-only/);
    account
      .given([])
      .when(setting({ name: "serviceLongArnFormat", value: "disabled" }))
      .rejects("InvalidParameterException", /can only be enabled/);
    account
      .given([])
      .when(setting({ name: "fargateFIPSMode", value: "enabled" }))
      .rejects("InvalidParameterException", /PutAccountSettingDefault/);
    account
      .given([])
      .when(setting({ name: "fargateFIPSMode", value: "enabled", viaDefault: true, principalArn: ROOT, forRoot: true }))
      .thenTypes(["AccountSettingPut"]);
    account
      .given([])
      .when(setting({ name: "fargateTaskRetirementWaitPeriod", value: "14" }))
      .rejects("InvalidParameterException", /root user/);
    account
      .given([])
      .when(setting({ name: "fargateTaskRetirementWaitPeriod", value: "3", principalArn: ROOT, forRoot: true }))
      .rejects("InvalidParameterException");
  });

  test("DeleteSetting removes an explicit setting and refuses one that is not set", () => {
    const e: AccountEvent = {
      type: "AccountSettingPut",
      at: 1,
      name: "awsvpcTrunking",
      value: "enabled",
      principalArn: USER,
    };
    account
      .given([e])
      .when({ type: "DeleteSetting", at: 2, name: "awsvpcTrunking", principalArn: USER })
      .thenEvents([{ type: "AccountSettingDeleted", at: 2, name: "awsvpcTrunking", principalArn: USER }]);
    account
      .given([])
      .when({ type: "DeleteSetting", at: 2, name: "awsvpcTrunking", principalArn: USER })
      .rejects("InvalidParameterException");
    expect(
      foldAccount([e, { type: "AccountSettingDeleted", at: 2, name: "awsvpcTrunking", principalArn: USER }]).context
        .settings,
    ).toEqual([]);
  });

  test("a principal's effective value is its own, else the account default, else ECS's default", () => {
    const s = foldAccount([
      { type: "AccountSettingPut", at: 1, name: "containerInsights", value: "enabled", principalArn: ROOT },
      { type: "AccountSettingPut", at: 2, name: "awsvpcTrunking", value: "enabled", principalArn: USER },
    ]).context.settings;
    expect(effectiveSetting(s, "containerInsights", USER, ROOT)).toEqual({
      name: "containerInsights",
      value: "enabled",
      principalArn: ROOT,
      type: "user",
    });
    expect(effectiveSetting(s, "awsvpcTrunking", USER, ROOT).principalArn).toBe(USER);
    expect(effectiveSetting(s, "taskLongArnFormat", USER, ROOT).value).toBe(SETTING_DEFAULTS.taskLongArnFormat);
    expect(effectiveSetting(s, "guardDutyActivate", USER, ROOT).type).toBe("aws_managed");
    // Without effectiveSettings only the principal's own settings are listed.
    expect(listSettings(s, { principalArn: USER, root: ROOT, effective: false }).map((x) => x.name)).toEqual([
      "awsvpcTrunking",
    ]);
    expect(listSettings(s, { principalArn: USER, root: ROOT, effective: true })).toHaveLength(11);
    expect(
      listSettings(s, {
        principalArn: USER,
        root: ROOT,
        effective: true,
        name: "containerInsights",
        value: "disabled",
      }),
    ).toEqual([]);
  });

  test("principal ARNs must be IAM root, user or role ARNs of the account", () => {
    expect(validPrincipal(USER, "123456789012")).toBeUndefined();
    expect(validPrincipal("arn:aws:iam::123456789012:role/ops", "123456789012")).toBeUndefined();
    expect(validPrincipal("arn:aws:iam::999999999999:root", "123456789012")?.code).toBe("InvalidParameterException");
    expect(validPrincipal("alice", "123456789012")?.code).toBe("InvalidParameterException");
  });
});

const created: CapacityProviderCreated = {
  type: "CapacityProviderCreated",
  at: 1,
  name: "asg-a",
  capacityProviderArn: "arn:aws:ecs:us-east-1:123456789012:capacity-provider/asg-a",
  autoScalingGroupProvider: newAutoScalingGroupProvider({
    autoScalingGroupArn: "group-a",
    managedScaling: { status: "ENABLED", targetCapacity: 90 },
  }),
  tags: [],
};

describe("capacity provider decider", () => {
  test("creation fills ECS's defaults; a second provider of the same name or group is refused", () => {
    expect(created.autoScalingGroupProvider).toEqual({
      autoScalingGroupArn: "group-a",
      managedScaling: {
        status: "ENABLED",
        targetCapacity: 90,
        minimumScalingStepSize: 1,
        maximumScalingStepSize: 10000,
        instanceWarmupPeriod: 300,
      },
      managedTerminationProtection: "DISABLED",
    });
    account.given([]).when({ type: "CreateCapacityProvider", event: created }).thenEvents([created]);
    account
      .given([created])
      .when({ type: "CreateCapacityProvider", event: created })
      .rejects("ClientException", PROVIDER_EXISTS);
    account
      .given([created])
      .when({ type: "CreateCapacityProvider", event: { ...created, name: "asg-b" } })
      .rejects("ClientException", /already being used by another capacity provider/);
    account
      .given([])
      .when({ type: "CreateCapacityProvider", event: { ...created, name: "FARGATE" } })
      .rejects("ClientException");
  });

  test("update merges managed scaling; unknown and built-in providers are refused", () => {
    const d = decideAccount(
      {
        type: "UpdateCapacityProvider",
        at: 2,
        name: "asg-a",
        update: { managedScaling: { targetCapacity: 50 }, managedDraining: "ENABLED" },
      },
      foldAccount([created]),
    );
    expect(d.ok && d.events[0]).toMatchObject({
      type: "CapacityProviderUpdated",
      autoScalingGroupProvider: {
        managedScaling: { status: "ENABLED", targetCapacity: 50 },
        managedDraining: "ENABLED",
      },
    });
    account
      .given([])
      .when({ type: "UpdateCapacityProvider", at: 2, name: "asg-a", update: {} })
      .rejects("ClientException");
    account
      .given([])
      .when({ type: "UpdateCapacityProvider", at: 2, name: "FARGATE", update: {} })
      .rejects("InvalidParameterException", /reserved/);
  });

  test("delete fails (DELETE_FAILED, still ACTIVE) while a cluster has the provider; a deleted provider is INACTIVE", () => {
    const failed: AccountEvent = {
      type: "CapacityProviderDeleteFailed",
      at: 3,
      name: "asg-a",
      reason:
        "The capacity provider cannot be deleted because it is associated with cluster: c1. Remove the capacity provider from the cluster and try again.",
    };
    account
      .given([created])
      .when({ type: "DeleteCapacityProvider", at: 3, name: "asg-a", associatedWith: ["c1"] })
      .thenEvents([failed]);
    account
      .given([created, failed])
      .when({ type: "DeleteCapacityProvider", at: 4, name: "asg-a", associatedWith: ["c1"] })
      .thenEvents([]);
    expect(foldAccount([created, failed]).context.capacityProviders[0]).toMatchObject({
      status: "ACTIVE",
      lastChange: "DELETE_FAILED",
      failureReason: failed.reason,
    });
    account
      .given([created])
      .when({ type: "DeleteCapacityProvider", at: 3, name: "asg-a", associatedWith: [] })
      .thenEvents([{ type: "CapacityProviderDeleted", at: 3, name: "asg-a" }]);
    const after = foldAccount([created, { type: "CapacityProviderDeleted", at: 3, name: "asg-a" }]);
    expect(after.context.capacityProviders[0]).toMatchObject({ status: "INACTIVE", lastChange: "DELETE" });
    account
      .given([])
      .when({ type: "DeleteCapacityProvider", at: 3, name: "FARGATE_SPOT", associatedWith: [] })
      .rejects("InvalidParameterException", /reserved/);
    // The name can be used again once deleted.
    account
      .given([created, { type: "CapacityProviderDeleted", at: 3, name: "asg-a" }])
      .when({ type: "CreateCapacityProvider", event: { ...created, at: 4 } })
      .thenTypes(["CapacityProviderCreated"]);
  });

  test("tags merge and are capped at 50", () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    account
      .given([created])
      .when({ type: "TagCapacityProvider", at: 2, name: "asg-a", tags: many })
      .thenTypes(["CapacityProviderTagsChanged"]);
    account
      .given([created])
      .when({ type: "TagCapacityProvider", at: 2, name: "asg-a", tags: [...many, { key: "x", value: "y" }] })
      .rejects("LimitExceededException");
    account
      .given([created])
      .when({ type: "UntagCapacityProvider", at: 2, name: "asg-a", tagKeys: ["nope"] })
      .thenEvents([]);
    account
      .given([])
      .when({ type: "TagCapacityProvider", at: 2, name: "asg-a", tags: [] })
      .rejects("ResourceNotFoundException");
  });

  test("names, managed scaling ranges and default strategies follow ECS's rules", () => {
    expect(validateProviderName("good_name-1")).toBeUndefined();
    expect(validateProviderName("ecsThing")?.message).toMatch(/prefixed/);
    expect(validateProviderName("Fargate2")?.message).toMatch(/prefixed/);
    expect(validateProviderName("bad name")?.code).toBe("InvalidParameterException");
    expect(validateManagedScaling({ targetCapacity: 0 })?.message).toMatch(/targetCapacity/);
    expect(validateManagedScaling({ minimumScalingStepSize: 5, maximumScalingStepSize: 2 })?.message).toMatch(
      /minimumScalingStepSize/,
    );
    expect(validateStrategy([{ capacityProvider: "FARGATE", weight: 1 }], ["FARGATE"])).toEqual({
      ok: true,
      strategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
    const bad = (items: Parameters<typeof validateStrategy>[0], assoc: string[]) => {
      const r = validateStrategy(items, assoc);
      return r.ok ? undefined : r.rejection.message;
    };
    expect(bad([{ capacityProvider: "asg-a" }], ["FARGATE"])).toMatch(/not associated with the cluster/);
    expect(
      bad(
        [
          { capacityProvider: "FARGATE", base: 1 },
          { capacityProvider: "FARGATE_SPOT", base: 1 },
        ],
        ["FARGATE", "FARGATE_SPOT"],
      ),
    ).toMatch(/base/);
    expect(bad([{ capacityProvider: "FARGATE" }, { capacityProvider: "asg-a" }], ["FARGATE", "asg-a"])).toMatch(
      /both Fargate/,
    );
    expect(bad([{ capacityProvider: "FARGATE", weight: 1001 }], ["FARGATE"])).toMatch(/weight/);
    expect(
      updatedAutoScalingGroupProvider(created.autoScalingGroupProvider, { managedTerminationProtection: "ENABLED" })
        .managedTerminationProtection,
    ).toBe("ENABLED");
  });

  test("the strategy a call runs with: its own, else none with a launch type, else the cluster's default; the launch type that follows", () => {
    const cluster = { capacityProviders: ["asg-a", "FARGATE"], defaultCapacityProviderStrategy: [{ capacityProvider: "asg-a", weight: 2 }] };
    const run = (input: Parameters<typeof strategyToRun>[0], useDefault?: boolean) => strategyToRun(input, cluster, useDefault);
    expect(run({ capacityProviderStrategy: [{ capacityProvider: "FARGATE" }] })).toEqual({
      ok: true,
      strategy: [{ capacityProvider: "FARGATE", weight: 0, base: 0 }],
    });
    expect(run({ capacityProviderStrategy: [{ capacityProvider: "asg-b" }] })).toMatchObject({ ok: false });
    expect(run({ launchType: "EC2" })).toEqual({ ok: true, strategy: undefined });
    expect(run({})).toEqual({ ok: true, strategy: [{ capacityProvider: "asg-a", weight: 2, base: 0 }] });
    expect(run({}, false)).toEqual({ ok: true, strategy: undefined });
    expect(strategyToRun({}, { ...cluster, defaultCapacityProviderStrategy: [] })).toEqual({ ok: true, strategy: undefined });

    expect(strategyLaunchType([{ capacityProvider: "FARGATE_SPOT" }])).toBe("FARGATE");
    expect(strategyLaunchType([{ capacityProvider: "asg-a" }])).toBe("EC2");
    expect(deploymentLaunchType(undefined)).toBe("EC2");
    expect(deploymentLaunchType({ launchType: "EXTERNAL" })).toBe("EXTERNAL");
    expect(deploymentLaunchType({ capacityProviderStrategy: [{ capacityProvider: "FARGATE" }] })).toBe("FARGATE");
    expect(deploymentLaunchType({ capacityProviderStrategy: [] })).toBe("EC2");
  });
});
