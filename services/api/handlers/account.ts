import { z } from "zod";
import { SettingName } from "../../../events/account.events.ts";
import { subjects } from "../../../events/names.ts";
import {
  type AccountCommand,
  type AccountSnapshot,
  decideAccount,
  initialAccount,
} from "../../../machines/account/account.decide.ts";
import {
  effectiveSetting,
  listSettings,
  rootArn,
  settingType,
  validPrincipal,
} from "../../../machines/account/account.settings.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput, unwrap } from "../errors.ts";
import { paginate } from "../paging.ts";

/**
 * Account settings (PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting,
 * ListAccountSettings). Settings are kept per principal in the region's account aggregate; the
 * account default is the root user's setting. Without IAM identities a caller is the root user,
 * unless Berth's credentials name a user or role for its access key.
 */

/** ListAccountSettings (and DescribeCapacityProviders) pages hold at most 10 items (API model). */
export const SMALL_PAGE = 10;

export function accountSnapshot(s: ApiServices, region: string): AccountSnapshot {
  return s.model.accounts.get(subjects.account(region))?.snapshot ?? initialAccount();
}

/** Decides and appends one command on the region's account aggregate; ECS's error on refusal. */
export async function runAccountCommand(
  command: AccountCommand,
  resource: string,
  ctx: RequestContext,
  s: ApiServices,
) {
  const subject = subjects.account(ctx.region);
  await unwrap(
    s.bus.execute({
      subject,
      resource,
      get: () => s.model.accounts.get(subject),
      initial: initialAccount,
      decide: (state) => decideAccount(command, state),
      meta: { correlationid: ctx.requestId },
    }),
  );
  return accountSnapshot(s, ctx.region);
}

/** maxResults for the 1–10 pages (ListAccountSettings, DescribeCapacityProviders). */
export function smallPageSize(maxResults: number | undefined) {
  if (maxResults !== undefined && (maxResults < 1 || maxResults > SMALL_PAGE))
    throw invalid(`maxResults must be between 1 and ${SMALL_PAGE}.`);
}

/** The principal a setting is about: the one named, else the caller, else the root user. */
function principalOf(named: string | undefined, ctx: RequestContext): string {
  const root = rootArn(ctx.scope.account);
  if (named !== undefined) {
    const bad = validPrincipal(named, ctx.scope.account);
    if (bad) throw new EcsError(bad.code, bad.message);
    return named;
  }
  // An authenticated caller that is not an IAM user or role (e.g. federated) takes the root user's settings.
  return ctx.principal && validPrincipal(ctx.principal, ctx.scope.account) === undefined ? ctx.principal : root;
}

/** A new cluster's settings when CreateCluster names none: Container Insights as the account has it. */
export function defaultClusterSettings(
  s: ApiServices,
  ctx: RequestContext,
): { name: "containerInsights"; value: string }[] {
  const root = rootArn(ctx.scope.account);
  const e = effectiveSetting(
    accountSnapshot(s, ctx.region).context.settings,
    "containerInsights",
    principalOf(undefined, ctx),
    root,
  );
  return e.value === "disabled" ? [] : [{ name: "containerInsights", value: e.value }];
}

const renderSetting = (x: { name: SettingName; value: string; principalArn: string }) => ({
  name: x.name,
  value: x.value,
  principalArn: x.principalArn,
  type: settingType(x.name),
});

async function put(
  name: SettingName,
  value: string,
  principalArn: string,
  viaDefault: boolean,
  ctx: RequestContext,
  s: ApiServices,
) {
  const forRoot = principalArn === rootArn(ctx.scope.account);
  await runAccountCommand(
    { type: "PutSetting", at: ctx.now, name, value, principalArn, viaDefault, forRoot },
    principalArn,
    ctx,
    s,
  );
  return { setting: renderSetting({ name, value, principalArn }) };
}

const PutAccountSettingInput = z.object({ name: SettingName, value: z.string(), principalArn: z.string().optional() });

export const PutAccountSetting: Handler = async (raw, ctx, s) => {
  const input = parseInput(PutAccountSettingInput, raw);
  return put(input.name, input.value, principalOf(input.principalArn, ctx), false, ctx, s);
};

const PutAccountSettingDefaultInput = z.object({ name: SettingName, value: z.string() });

export const PutAccountSettingDefault: Handler = async (raw, ctx, s) => {
  const input = parseInput(PutAccountSettingDefaultInput, raw);
  return put(input.name, input.value, rootArn(ctx.scope.account), true, ctx, s);
};

const DeleteAccountSettingInput = z.object({ name: SettingName, principalArn: z.string().optional() });

export const DeleteAccountSetting: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeleteAccountSettingInput, raw);
  const principalArn = principalOf(input.principalArn, ctx);
  const before = accountSnapshot(s, ctx.region).context.settings.find(
    (x) => x.name === input.name && x.principalArn === principalArn,
  );
  await runAccountCommand({ type: "DeleteSetting", at: ctx.now, name: input.name, principalArn }, principalArn, ctx, s);
  // The answer is the setting as it was (ECS shows what was deleted).
  return { setting: renderSetting(before ?? { name: input.name, value: "", principalArn }) };
};

const ListAccountSettingsInput = z.object({
  name: SettingName.optional(),
  value: z.string().optional(),
  principalArn: z.string().optional(),
  effectiveSettings: z.boolean().optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListAccountSettings: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListAccountSettingsInput, raw);
  if (input.value !== undefined && input.name === undefined)
    throw invalid("value can only be used together with name: specify the account setting name to filter on.");
  smallPageSize(input.maxResults);
  const principalArn = principalOf(input.principalArn, ctx);
  const settings = listSettings(accountSnapshot(s, ctx.region).context.settings, {
    principalArn,
    root: rootArn(ctx.scope.account),
    effective: input.effectiveSettings ?? false,
    ...(input.name ? { name: input.name } : {}),
    ...(input.value !== undefined ? { value: input.value } : {}),
  });
  const filters = { n: input.name, v: input.value, p: principalArn, e: input.effectiveSettings ?? false };
  const { page, nextToken } = paginate(settings, input, filters, SMALL_PAGE);
  return { settings: page, ...(nextToken ? { nextToken } : {}) };
};
