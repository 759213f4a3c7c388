import { z } from "zod";
import { isArn } from "../../../events/arns.ts";
import { Attribute } from "../../../events/shapes.ts";
import { decideInstance, MAX_CUSTOM_ATTRIBUTES } from "../../../machines/instance/instance.decide.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput } from "../errors.ts";
import { paginate } from "../paging.ts";
import { activeCluster } from "../resolve.ts";
import { type InstanceTarget, instanceTarget, runInstanceCommand } from "./instances-extra.ts";

/**
 * PutAttributes, DeleteAttributes and ListAttributes. Container instances are the only target
 * type ECS has. Custom attributes are kept apart from the agent's, so a re-registration keeps them.
 */

/** ECS attribute rules (API model): names 1–128 of letters, digits, - _ / \ . ; values 1–128, also @ : and inner spaces. */
const NAME = /^[A-Za-z0-9_./\\-]{1,128}$/;
const VALUE = /^[A-Za-z0-9_./\\@: -]{1,128}$/;
const MAX_PER_CALL = 10;
const TARGET_NOT_FOUND = "Could not find the target container instance.";

type Attr = z.infer<typeof Attribute>;

function checkAttribute(a: Attr, withValue: boolean) {
  if (!NAME.test(a.name))
    throw invalid(
      `Attribute name ${a.name} is invalid: use 1-128 letters, numbers, hyphens, underscores, periods and slashes.`,
    );
  if (withValue && a.value !== undefined && (!VALUE.test(a.value) || a.value.trim() !== a.value))
    throw invalid(
      `Attribute value ${a.value} is invalid: use 1-128 letters, numbers, hyphens, underscores, periods, at signs, colons, slashes and spaces (not leading or trailing).`,
    );
  if (a.targetId === undefined) throw invalid(`targetId is required for attribute ${a.name}.`);
  if (!isArn(a.targetId) && a.targetType === undefined)
    throw invalid(`targetType is required for attribute ${a.name} because its targetId is not an ARN.`);
}

/** Groups the attributes by the instance they target; every target must exist and be registered. */
function byTarget(
  attrs: readonly Attr[],
  withValue: boolean,
  ctx: RequestContext,
  s: ApiServices,
  clusterValue: string | undefined,
) {
  if (attrs.length === 0) throw invalid("attributes cannot be empty.");
  if (attrs.length > MAX_PER_CALL) throw invalid(`You can specify up to ${MAX_PER_CALL} attributes in a single call.`);
  const cluster = activeCluster(clusterValue, ctx, s);
  const groups = new Map<string, { target: InstanceTarget; attrs: Attr[] }>();
  for (const a of attrs) {
    checkAttribute(a, withValue);
    const t = instanceTarget(a.targetId as string, cluster, ctx, s);
    const live = t?.agg?.snapshot.value === "ACTIVE" || t?.agg?.snapshot.value === "DRAINING";
    if (!t || !live) throw new EcsError("TargetNotFoundException", `${TARGET_NOT_FOUND} (${a.targetId})`);
    const g = groups.get(t.subject) ?? { target: t, attrs: [] };
    g.attrs.push(a);
    groups.set(t.subject, g);
  }
  return [...groups.values()];
}

const PutAttributesInput = z.object({ cluster: z.string().optional(), attributes: z.array(Attribute) });

export const PutAttributes: Handler = async (raw, ctx, s) => {
  const input = parseInput(PutAttributesInput, raw);
  const groups = byTarget(input.attributes, true, ctx, s, input.cluster);
  const commands = groups.map((g) => ({
    target: g.target,
    command: {
      type: "PutAttributes" as const,
      at: ctx.now,
      attributes: g.attrs.map((a) => (a.value === undefined ? { name: a.name } : { name: a.name, value: a.value })),
    },
  }));
  // Every target is checked against the limit before anything is written: no partial writes.
  for (const c of commands) {
    const d = decideInstance(c.command, c.target.agg!.snapshot);
    if (!d.ok)
      throw new EcsError(
        d.rejection.code,
        d.rejection.code === "AttributeLimitExceededException"
          ? `You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes per resource (${c.target.arn}).`
          : d.rejection.message,
      );
  }
  for (const c of commands) await runInstanceCommand(c.target, c.command, ctx, s);
  return { attributes: input.attributes };
};

const DeleteAttributesInput = z.object({ cluster: z.string().optional(), attributes: z.array(Attribute) });

/**
 * Answers with the attributes deleted as they were: ECS names the value each had (the request
 * names none), as the AWS CLI's delete-attributes example shows it.
 */
export const DeleteAttributes: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeleteAttributesInput, raw);
  const groups = byTarget(input.attributes, false, ctx, s, input.cluster);
  const deleted = new Map<Attr, Attr>();
  for (const g of groups) {
    const values = new Map(g.target.agg!.snapshot.context.customAttributes.map((a) => [a.name, a.value]));
    for (const a of g.attrs) {
      const value = values.get(a.name);
      deleted.set(a, value === undefined ? a : { ...a, value });
    }
  }
  for (const g of groups)
    await runInstanceCommand(
      g.target,
      { type: "DeleteAttributes", at: ctx.now, names: g.attrs.map((a) => a.name) },
      ctx,
      s,
    );
  return { attributes: input.attributes.map((a) => deleted.get(a) ?? a) };
};

const ListAttributesInput = z.object({
  cluster: z.string().optional(),
  targetType: z.enum(["container-instance"]),
  attributeName: z.string().optional(),
  attributeValue: z.string().optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListAttributes: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListAttributesInput, raw);
  if (input.attributeValue !== undefined && input.attributeName === undefined)
    throw invalid("attributeValue can only be used together with attributeName.");
  const cluster = activeCluster(input.cluster, ctx, s);
  const out: { name: string; value?: string; targetType: "container-instance"; targetId: string }[] = [];
  const subjects = [...(s.model.instancesByCluster.get(cluster.subject) ?? [])].sort();
  for (const subject of subjects) {
    const agg = s.model.instances.get(subject);
    if (!agg || (agg.snapshot.value !== "ACTIVE" && agg.snapshot.value !== "DRAINING")) continue;
    const i = agg.snapshot.context;
    const custom = new Map(i.customAttributes.map((a) => [a.name, a]));
    for (const a of [...i.attributes.filter((x) => !custom.has(x.name)), ...custom.values()]) {
      if (input.attributeName !== undefined && a.name !== input.attributeName) continue;
      if (input.attributeValue !== undefined && a.value !== input.attributeValue) continue;
      out.push({
        name: a.name,
        ...(a.value !== undefined ? { value: a.value } : {}),
        targetType: "container-instance",
        targetId: i.containerInstanceArn,
      });
    }
  }
  const filters = { c: cluster.name, n: input.attributeName, v: input.attributeValue };
  const { page, nextToken } = paginate(out, input, filters);
  return { attributes: page, ...(nextToken ? { nextToken } : {}) };
};
