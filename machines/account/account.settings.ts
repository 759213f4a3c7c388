import { SETTING_NAMES, type SettingName } from "../../events/account.events.ts";
import type { Rejection } from "../decider.ts";
import type { SettingRecord } from "./account.machine.ts";

/**
 * ECS account settings: which values each setting takes, what applies when nobody set it, and how
 * a principal's effective value is found (its own setting, else the root user's — the account
 * default — else ECS's default). Pure.
 */

/**
 * ECS's defaults for an account that never set anything. The long ARN formats are on and can no
 * longer be turned off (the opt-out period ended on 2021-04-01); the log driver mode default is
 * non-blocking since 2025-06-25; Fargate retirement waits 7 days unless set.
 */
export const SETTING_DEFAULTS: Readonly<Record<SettingName, string>> = {
  serviceLongArnFormat: "enabled",
  taskLongArnFormat: "enabled",
  containerInstanceLongArnFormat: "enabled",
  awsvpcTrunking: "disabled",
  containerInsights: "disabled",
  fargateFIPSMode: "disabled",
  tagResourceAuthorization: "on",
  fargateTaskRetirementWaitPeriod: "7",
  guardDutyActivate: "off",
  defaultLogDriverMode: "non-blocking",
  fargateEventWindows: "disabled",
};

const ALLOWED: Readonly<Record<SettingName, readonly string[]>> = {
  serviceLongArnFormat: ["enabled"],
  taskLongArnFormat: ["enabled"],
  containerInstanceLongArnFormat: ["enabled"],
  awsvpcTrunking: ["enabled", "disabled"],
  containerInsights: ["enabled", "disabled", "enhanced"],
  fargateFIPSMode: ["enabled", "disabled"],
  tagResourceAuthorization: ["on", "off"],
  fargateTaskRetirementWaitPeriod: ["0", "7", "14"],
  guardDutyActivate: [],
  defaultLogDriverMode: ["blocking", "non-blocking"],
  fargateEventWindows: ["enabled", "disabled"],
};

const LONG_ARN = new Set<SettingName>(["serviceLongArnFormat", "taskLongArnFormat", "containerInstanceLongArnFormat"]);

/** ECS manages guardDutyActivate on the account's behalf; every other setting is the user's. */
export const settingType = (name: SettingName): "user" | "aws_managed" =>
  name === "guardDutyActivate" ? "aws_managed" : "user";

export const rootArn = (account: string) => `arn:aws:iam::${account}:root`;

/** IAM principals a setting may be set for: the root user, a user or a role of this account. */
const PRINCIPAL = /^arn:aws:iam::(\d{12}):(root|user\/[\w+=,.@/-]{1,512}|role\/[\w+=,.@/-]{1,512})$/;

export function validPrincipal(principalArn: string, account: string): Rejection | undefined {
  const m = PRINCIPAL.exec(principalArn);
  if (!m)
    return {
      code: "InvalidParameterException",
      message: `principalArn ${principalArn} is not a valid IAM user, role or root ARN.`,
    };
  if (m[1] !== account)
    return { code: "InvalidParameterException", message: "principalArn must belong to this account." };
  return undefined;
}

/**
 * Whether `value` may be set for `name`. `viaDefault` is PutAccountSettingDefault (the account
 * default, i.e. the root user's setting); `forRoot` tells whether the principal is the root user.
 */
export function validateSetting(
  name: SettingName,
  value: string,
  opts: { viaDefault: boolean; forRoot: boolean },
): Rejection | undefined {
  const invalid = (message: string): Rejection => ({ code: "InvalidParameterException", message });
  if (name === "guardDutyActivate")
    return invalid("The guardDutyActivate account setting is read-only: it is managed on the account's behalf.");
  if (LONG_ARN.has(name) && value === "disabled")
    return invalid(`The opt-out period for the long ARN format has ended; ${name} can only be enabled.`);
  if (!ALLOWED[name].includes(value))
    return invalid(`Invalid value ${value} for ${name}. Valid values: ${ALLOWED[name].join(", ")}.`);
  if (name === "fargateFIPSMode" && !opts.viaDefault)
    return invalid("fargateFIPSMode can only be changed with PutAccountSettingDefault.");
  if (name === "fargateTaskRetirementWaitPeriod" && !opts.forRoot)
    return invalid("fargateTaskRetirementWaitPeriod can only be set by the root user for the account.");
  return undefined;
}

export interface EffectiveSetting {
  name: SettingName;
  value: string;
  principalArn: string;
  type: "user" | "aws_managed";
}

/** The value that applies to `principalArn`: its own, else the account default, else ECS's default. */
export function effectiveSetting(
  settings: readonly SettingRecord[],
  name: SettingName,
  principalArn: string,
  root: string,
): EffectiveSetting {
  const own = settings.find((s) => s.name === name && s.principalArn === principalArn);
  const fallback = own ?? settings.find((s) => s.name === name && s.principalArn === root);
  return {
    name,
    value: fallback?.value ?? SETTING_DEFAULTS[name],
    principalArn: fallback?.principalArn ?? root,
    type: settingType(name),
  };
}

/** ListAccountSettings: explicit settings of the principal, or every effective one; in model order. */
export function listSettings(
  settings: readonly SettingRecord[],
  q: { principalArn: string; root: string; effective: boolean; name?: SettingName; value?: string },
): EffectiveSetting[] {
  const names = q.name ? [q.name] : [...SETTING_NAMES];
  const out: EffectiveSetting[] = [];
  for (const name of names) {
    const s = q.effective
      ? effectiveSetting(settings, name, q.principalArn, q.root)
      : settings
          .filter((x) => x.name === name && x.principalArn === q.principalArn)
          .map((x) => ({ ...x, type: settingType(x.name) }))[0];
    if (s && (q.value === undefined || s.value === q.value)) out.push(s);
  }
  return out;
}
