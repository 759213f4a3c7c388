import { z } from "zod";
import { arns } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { decideTask, initialTask, type TaskSnapshot } from "../../../machines/task/task.decide.ts";
import { taskArnOf } from "../../../machines/task/task.spec.ts";
import type { Agg } from "../../control-plane/read-model.ts";
import { SERVICE_GROUP_PREFIX } from "../../control-plane/read-model.ts";
import type { Handler, RequestContext } from "../context.ts";
import { invalid, parseInput } from "../errors.ts";
import { seconds } from "../render.ts";
import { activeCluster, taskIdOf } from "../resolve.ts";

/**
 * GetTaskProtection / UpdateTaskProtection: scale-in protection of service tasks, kept on the task
 * as a fact (TaskProtectionChanged) with its expiry time; an expired protection reads as off.
 * A standalone task, or one already being stopped, is a TASK_NOT_VALID failure, as in ECS.
 */

/** ECS: protection lasts 120 minutes unless asked otherwise, at most 2,880 (48 hours). */
export const DEFAULT_PROTECTION_MINUTES = 120;
export const MAX_PROTECTION_MINUTES = 2880;

type Failure = { arn: string; reason: string; detail?: string };

function protectedTask(agg: Agg<TaskSnapshot>, now: number) {
  const t = agg.snapshot.context;
  const p = t.protection;
  const on = p?.enabled === true && (p.expiresAt === undefined || now < p.expiresAt);
  return {
    taskArn: taskArnOf(t),
    protectionEnabled: on,
    ...(on && p?.expiresAt !== undefined ? { expirationDate: seconds(p.expiresAt) } : {}),
  };
}

const notValid = (arn: string): Failure => ({
  arn,
  reason: "TASK_NOT_VALID",
  detail: "Task scale-in protection applies only to running tasks of a service.",
});

function lookup(
  value: string,
  cluster: ReturnType<typeof activeCluster>,
  ctx: RequestContext,
  s: Parameters<Handler>[2],
) {
  const id = taskIdOf(value, cluster.name);
  const subject = id ? subjects.task(ctx.region, cluster.name, id) : undefined;
  return {
    arn: id ? arns.task(ctx.scope, cluster.name, id) : value,
    subject,
    agg: subject ? s.model.tasks.get(subject) : undefined,
  };
}

const GetTaskProtectionInput = z.object({ cluster: z.string(), tasks: z.array(z.string()).optional() });

export const GetTaskProtection: Handler = async (raw, ctx, s) => {
  const input = parseInput(GetTaskProtectionInput, raw);
  if (input.tasks && input.tasks.length > 100) throw invalid("tasks cannot contain more than 100 elements.");
  const cluster = activeCluster(input.cluster, ctx, s);
  const protectedTasks: unknown[] = [];
  const failures: Failure[] = [];
  if (!input.tasks || input.tasks.length === 0) {
    // No tasks named: every service task of the cluster that is protected now.
    for (const subject of s.model.tasksByCluster.get(cluster.subject)?.values() ?? []) {
      const agg = s.model.tasks.get(subject);
      if (agg?.snapshot.context.group.startsWith(SERVICE_GROUP_PREFIX) && protectedTask(agg, ctx.now).protectionEnabled)
        protectedTasks.push(protectedTask(agg, ctx.now));
    }
    return { protectedTasks, failures };
  }
  for (const value of input.tasks) {
    const t = lookup(value, cluster, ctx, s);
    if (!t.agg) failures.push({ arn: t.arn, reason: "MISSING" });
    else if (!t.agg.snapshot.context.group.startsWith(SERVICE_GROUP_PREFIX)) failures.push(notValid(t.arn));
    else protectedTasks.push(protectedTask(t.agg, ctx.now));
  }
  return { protectedTasks, failures };
};

const UpdateTaskProtectionInput = z.object({
  cluster: z.string(),
  tasks: z.array(z.string()),
  protectionEnabled: z.boolean(),
  expiresInMinutes: z.number().int().optional(),
});

export const UpdateTaskProtection: Handler = async (raw, ctx, s) => {
  const input = parseInput(UpdateTaskProtectionInput, raw);
  if (input.tasks.length === 0) throw invalid("tasks cannot be empty.");
  if (input.tasks.length > 10) throw invalid("tasks cannot contain more than 10 elements.");
  const minutes = input.expiresInMinutes ?? DEFAULT_PROTECTION_MINUTES;
  if (minutes < 1 || minutes > MAX_PROTECTION_MINUTES)
    throw invalid(`expiresInMinutes must be between 1 and ${MAX_PROTECTION_MINUTES}.`);
  const cluster = activeCluster(input.cluster, ctx, s);
  const protectedTasks: unknown[] = [];
  const failures: Failure[] = [];
  for (const value of input.tasks) {
    const t = lookup(value, cluster, ctx, s);
    if (!t.agg || !t.subject) {
      failures.push({ arn: t.arn, reason: "MISSING" });
      continue;
    }
    const subject = t.subject;
    const r = await s.bus.execute({
      subject,
      resource: taskArnOf(t.agg.snapshot.context),
      get: () => s.model.tasks.get(subject),
      initial: initialTask,
      decide: (state) =>
        decideTask(
          {
            type: "SetProtection",
            at: ctx.now,
            enabled: input.protectionEnabled,
            expiresAt: ctx.now + minutes * 60_000,
          },
          state,
        ),
      meta: { correlationid: ctx.requestId },
    });
    if (!r.ok) {
      failures.push(r.rejection.message === "TASK_NOT_VALID" ? notValid(t.arn) : { arn: t.arn, reason: "MISSING" });
      continue;
    }
    protectedTasks.push(protectedTask(s.model.tasks.get(subject)!, ctx.now));
  }
  return { protectedTasks, failures };
};
