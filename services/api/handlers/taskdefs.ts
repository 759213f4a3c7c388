import { z } from "zod";
import { isArn, parseArn } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import type { TaskDefinitionRevision } from "../../../events/taskdef.shapes.ts";
import {
  decideTaskDefinition,
  foldTaskDefinition,
  latestActive,
  revisionOf,
  type TaskDefinitionCommand,
} from "../../../machines/taskdef/taskdef.decide.ts";
import { validateRegisterTaskDefinition } from "../../../machines/taskdef/taskdef.validate.ts";
import { type ApiServices, callerArn, type Handler, type RequestContext } from "../context.ts";
import { clientError, EcsError, invalid, parseInput, unwrap } from "../errors.ts";
import { paginate } from "../paging.ts";
import { compact, seconds } from "../render.ts";

const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;

/** `family`, `family:revision` or a task-definition ARN → its parts; null when malformed. */
export function parseTaskDefinitionRef(value: string, ctx: RequestContext): { family: string; revision?: number } | null {
  let text = value;
  if (isArn(value)) {
    const p = parseArn(value);
    if (p?.kind !== "task-definition" || p.region !== ctx.region || p.account !== ctx.scope.account) return null;
    text = p.path.join("/");
  }
  const m = /^([A-Za-z0-9_-]{1,255})(?::(\d+))?$/.exec(text);
  if (!m) return null;
  return m[2] === undefined ? { family: m[1] as string } : { family: m[1] as string, revision: Number(m[2]) };
}

/** DescribeTaskDefinition's ClientException for a reference that names no revision (seen on AWS). */
export const UNABLE_TO_DESCRIBE = "Unable to describe task definition.";
/** RunTask's and CreateService's ClientException for the same (seen on AWS). */
export const TASK_DEFINITION_NOT_FOUND_TO_RUN = "TaskDefinition not found.";

/**
 * Resolves a task definition reference; a family alone means its latest ACTIVE revision. A
 * reference that names no revision is a ClientException whose words depend on the action:
 * DescribeTaskDefinition's (the default) or `notFound`. A revision that must be ACTIVE and is not
 * is refused in ECS's words, which name no revision, with the code of the caller's action:
 * RunTask answers InvalidParameterException, UpdateService ClientException (the default).
 */
export function resolveTaskDefinition(
  value: string,
  ctx: RequestContext,
  s: ApiServices,
  opts: { requireActive: boolean; inactiveCode?: "ClientException" | "InvalidParameterException"; notFound?: string },
): TaskDefinitionRevision & { tags: { key: string; value: string }[] } {
  const ref = parseTaskDefinitionRef(value, ctx);
  const agg = ref ? s.model.taskDefinitions.get(subjects.taskDefinition(ctx.region, ref.family)) : undefined;
  const rev = agg && ref ? (ref.revision === undefined ? latestActive(agg.snapshot) : revisionOf(agg.snapshot, ref.revision)) : undefined;
  if (!rev) throw clientError(opts.notFound ?? UNABLE_TO_DESCRIBE);
  if (opts.requireActive && rev.status !== "ACTIVE")
    throw new EcsError(opts.inactiveCode ?? "ClientException", "TaskDefinition is inactive");
  return rev;
}

/** A revision as DescribeTaskDefinition returns it (tags are returned beside it, not inside). */
export function renderTaskDefinition(rev: TaskDefinitionRevision) {
  const { tags: _tags, registeredAt, deregisteredAt, deleteRequestedAt, ...rest } = rev;
  return compact({
    ...rest,
    registeredAt: seconds(registeredAt),
    deregisteredAt: seconds(deregisteredAt),
    deleteRequestedAt: seconds(deleteRequestedAt),
  });
}

async function runFamilyCommand(family: string, command: TaskDefinitionCommand, ctx: RequestContext, s: ApiServices) {
  const subject = subjects.taskDefinition(ctx.region, family);
  const r = await unwrap(
    s.bus.execute({
      subject,
      resource: `arn:aws:ecs:${ctx.region}:${s.account}:task-definition/${family}`,
      get: () => s.model.taskDefinitions.get(subject),
      initial: () => foldTaskDefinition([]),
      decide: (state) => decideTaskDefinition(command, state, { scope: ctx.scope, now: ctx.now }),
      meta: { correlationid: ctx.requestId },
    }),
  );
  return { subject, events: r.events };
}

export const RegisterTaskDefinition: Handler = async (raw, ctx, s) => {
  const v = validateRegisterTaskDefinition(raw);
  if (!v.ok) throw new EcsError(v.rejection.code, v.rejection.message);
  const { subject, events } = await runFamilyCommand(
    v.spec.family,
    { type: "Register", spec: v.spec, tags: v.tags, registeredBy: callerArn(ctx) },
    ctx,
    s,
  );
  const registered = events.find((e) => e.type === "TaskDefinitionRegistered");
  const agg = s.model.taskDefinitions.get(subject);
  const rev = registered && agg ? revisionOf(agg.snapshot, registered.revision) : undefined;
  if (!rev) throw new Error("registered revision missing from the read model");
  return { taskDefinition: renderTaskDefinition(rev), tags: rev.tags };
};

const DescribeTaskDefinitionInput = z.object({
  taskDefinition: z.string().optional(),
  include: z.array(z.enum(["TAGS"])).optional(),
});

export const DescribeTaskDefinition: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeTaskDefinitionInput, raw);
  if (!input.taskDefinition) throw invalid("Task Definition can not be blank.");
  const rev = resolveTaskDefinition(input.taskDefinition, ctx, s, { requireActive: false });
  return { taskDefinition: renderTaskDefinition(rev), ...(input.include?.includes("TAGS") ? { tags: rev.tags } : {}) };
};

const DeregisterTaskDefinitionInput = z.object({ taskDefinition: z.string() });

export const DeregisterTaskDefinition: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeregisterTaskDefinitionInput, raw);
  const ref = parseTaskDefinitionRef(input.taskDefinition, ctx);
  if (!ref || ref.revision === undefined)
    throw invalid("A revision is required: use family:revision or the full task definition ARN.");
  if (!s.model.taskDefinitions.get(subjects.taskDefinition(ctx.region, ref.family)))
    throw clientError("The specified task definition does not exist.");
  const { subject } = await runFamilyCommand(ref.family, { type: "Deregister", revision: ref.revision }, ctx, s);
  const rev = revisionOf(s.model.taskDefinitions.get(subject)!.snapshot, ref.revision)!;
  return { taskDefinition: renderTaskDefinition(rev) };
};

const DeleteTaskDefinitionsInput = z.object({ taskDefinitions: z.array(z.string()) });

export const DeleteTaskDefinitions: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeleteTaskDefinitionsInput, raw);
  if (input.taskDefinitions.length === 0) throw invalid("taskDefinitions cannot be empty.");
  if (input.taskDefinitions.length > 10) throw invalid("taskDefinitions cannot contain more than 10 elements.");
  const taskDefinitions: unknown[] = [];
  const failures: { arn: string; reason: string; detail?: string }[] = [];
  for (const value of input.taskDefinitions) {
    const ref = parseTaskDefinitionRef(value, ctx);
    if (!ref || ref.revision === undefined) {
      failures.push({ arn: value, reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again." });
      continue;
    }
    const subject = subjects.taskDefinition(ctx.region, ref.family);
    if (!s.model.taskDefinitions.get(subject)) {
      failures.push({ arn: value, reason: "The specified task definition does not exist. Specify a valid task definition and try again." });
      continue;
    }
    try {
      await runFamilyCommand(ref.family, { type: "Delete", revision: ref.revision }, ctx, s);
      taskDefinitions.push(renderTaskDefinition(revisionOf(s.model.taskDefinitions.get(subject)!.snapshot, ref.revision)!));
    } catch (err) {
      if (!(err instanceof EcsError)) throw err;
      failures.push({ arn: value, reason: err.message });
    }
  }
  return { taskDefinitions, failures };
};

function allRevisions(s: ApiServices, ctx: RequestContext): TaskDefinitionRevision[] {
  const out: TaskDefinitionRevision[] = [];
  for (const agg of s.model.taskDefinitions.values()) {
    if (agg.region !== ctx.region) continue;
    for (let n = 1; ; n++) {
      const rev = revisionOf(agg.snapshot, n);
      if (rev) out.push(rev);
      else if (n > (agg.snapshot.context.latestRevision ?? 0)) break;
    }
  }
  return out;
}

const ListTaskDefinitionsInput = z.object({
  familyPrefix: z.string().optional(),
  status: z.enum(["ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"]).optional(),
  sort: z.enum(["ASC", "DESC"]).optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListTaskDefinitions: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListTaskDefinitionsInput, raw);
  const status = input.status ?? "ACTIVE";
  const list = allRevisions(s, ctx)
    .filter((r) => r.status === status && (input.familyPrefix === undefined || r.family === input.familyPrefix))
    .sort((a, b) => (a.family < b.family ? -1 : a.family > b.family ? 1 : a.revision - b.revision))
    .map((r) => r.taskDefinitionArn);
  if (input.sort === "DESC") list.reverse();
  const { page, nextToken } = paginate(list, input, { f: input.familyPrefix, s: status, o: input.sort });
  return { taskDefinitionArns: page, ...(nextToken ? { nextToken } : {}) };
};

const ListTaskDefinitionFamiliesInput = z.object({
  familyPrefix: z.string().optional(),
  status: z.enum(["ACTIVE", "INACTIVE", "ALL"]).optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListTaskDefinitionFamilies: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListTaskDefinitionFamiliesInput, raw);
  if (input.familyPrefix !== undefined && !/^[A-Za-z0-9_-]*$/.test(input.familyPrefix))
    throw invalid("familyPrefix can only contain letters, numbers, hyphens and underscores.");
  const families: string[] = [];
  for (const agg of s.model.taskDefinitions.values()) {
    if (agg.region !== ctx.region) continue;
    const family = agg.snapshot.context.family;
    if (!FAMILY.test(family) || (input.familyPrefix && !family.startsWith(input.familyPrefix))) continue;
    const active = latestActive(agg.snapshot) !== undefined;
    if (input.status === "ACTIVE" && !active) continue;
    if (input.status === "INACTIVE" && active) continue;
    families.push(family);
  }
  families.sort();
  const { page, nextToken } = paginate(families, input, { f: input.familyPrefix, s: input.status });
  return { families: page, ...(nextToken ? { nextToken } : {}) };
};
