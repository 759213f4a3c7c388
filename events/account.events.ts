import { z } from "zod";
import { Millis, Tag } from "./shapes.ts";

/**
 * Events of one region's account aggregate (subject `berth.evt.<region>.account.settings`): the
 * ECS account settings of every principal, and the capacity providers created with
 * CreateCapacityProvider. The built-in FARGATE and FARGATE_SPOT providers exist in every region
 * and have no events.
 */

/** ECS's SettingName enum (API model 2014-11-13), in the model's order. */
export const SETTING_NAMES = [
  "serviceLongArnFormat",
  "taskLongArnFormat",
  "containerInstanceLongArnFormat",
  "awsvpcTrunking",
  "containerInsights",
  "fargateFIPSMode",
  "tagResourceAuthorization",
  "fargateTaskRetirementWaitPeriod",
  "guardDutyActivate",
  "defaultLogDriverMode",
  "fargateEventWindows",
] as const;
export const SettingName = z.enum(SETTING_NAMES);
export type SettingName = z.infer<typeof SettingName>;

/** PutAccountSetting / PutAccountSettingDefault (the account default is the root principal's setting). */
export const AccountSettingPut = z.strictObject({
  type: z.literal("AccountSettingPut"),
  at: Millis,
  name: SettingName,
  value: z.string(),
  principalArn: z.string(),
});

/** DeleteAccountSetting: the principal falls back to the account default (or ECS's). */
export const AccountSettingDeleted = z.strictObject({
  type: z.literal("AccountSettingDeleted"),
  at: Millis,
  name: SettingName,
  principalArn: z.string(),
});

export const ManagedScaling = z.strictObject({
  status: z.enum(["ENABLED", "DISABLED"]).optional(),
  targetCapacity: z.number().int().optional(),
  minimumScalingStepSize: z.number().int().optional(),
  maximumScalingStepSize: z.number().int().optional(),
  instanceWarmupPeriod: z.number().int().optional(),
});
export type ManagedScaling = z.infer<typeof ManagedScaling>;

/** ECS's AutoScalingGroupProvider, stored as decided (defaults filled in). */
export const AutoScalingGroupProvider = z.strictObject({
  autoScalingGroupArn: z.string(),
  managedScaling: ManagedScaling.optional(),
  managedTerminationProtection: z.enum(["ENABLED", "DISABLED"]).optional(),
  managedDraining: z.enum(["ENABLED", "DISABLED"]).optional(),
});
export type AutoScalingGroupProvider = z.infer<typeof AutoScalingGroupProvider>;

export const CapacityProviderCreated = z.strictObject({
  type: z.literal("CapacityProviderCreated"),
  at: Millis,
  name: z.string(),
  capacityProviderArn: z.string(),
  autoScalingGroupProvider: AutoScalingGroupProvider,
  tags: z.array(Tag),
});

/** UpdateCapacityProvider: the provider's settings after the update (complete, not a patch). */
export const CapacityProviderUpdated = z.strictObject({
  type: z.literal("CapacityProviderUpdated"),
  at: Millis,
  name: z.string(),
  autoScalingGroupProvider: AutoScalingGroupProvider,
});

export const CapacityProviderDeleted = z.strictObject({
  type: z.literal("CapacityProviderDeleted"),
  at: Millis,
  name: z.string(),
});

/**
 * DeleteCapacityProvider while a cluster still has the provider: ECS keeps it ACTIVE and records
 * the failure in its updateStatus (DELETE_FAILED) and updateStatusReason.
 */
export const CapacityProviderDeleteFailed = z.strictObject({
  type: z.literal("CapacityProviderDeleteFailed"),
  at: Millis,
  name: z.string(),
  reason: z.string(),
});

/** TagResource / UntagResource on a capacity provider; `tags` is the complete list after the change. */
export const CapacityProviderTagsChanged = z.strictObject({
  type: z.literal("CapacityProviderTagsChanged"),
  at: Millis,
  name: z.string(),
  tags: z.array(Tag),
});

export const AccountEvent = z.discriminatedUnion("type", [
  AccountSettingPut,
  AccountSettingDeleted,
  CapacityProviderCreated,
  CapacityProviderUpdated,
  CapacityProviderDeleted,
  CapacityProviderDeleteFailed,
  CapacityProviderTagsChanged,
]);
export type AccountEvent = z.infer<typeof AccountEvent>;
export type CapacityProviderCreated = z.infer<typeof CapacityProviderCreated>;
