import { z } from "zod";
import { arns } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { evaluate, parseExpression } from "../../../machines/placement/cql.ts";
import type { ReadModel } from "../../control-plane/read-model.ts";
import { instanceViews } from "../../control-plane/placement.ts";
import type { Handler } from "../context.ts";
import { EcsError, invalid, parseInput } from "../errors.ts";
import { paginate } from "../paging.ts";
import { renderInstance } from "../render.ts";
import { activeCluster, instanceIdOf } from "../resolve.ts";

/** ECS counts: running = tasks desired RUNNING on the instance; pending = tasks whose lastStatus is PENDING. */
export function instanceTaskCounts(model: ReadModel, instanceSubject: string) {
  let running = 0;
  let pending = 0;
  for (const t of model.liveTasksByInstance.get(instanceSubject) ?? []) {
    const task = model.tasks.get(t);
    if (!task) continue;
    if (task.snapshot.context.desiredStatus === "RUNNING") running++;
    if (task.snapshot.value === "PENDING") pending++;
  }
  return { running, pending };
}

const ListContainerInstancesInput = z.object({
  cluster: z.string().optional(),
  filter: z.string().max(2000).optional(),
  status: z.enum(["ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"]).optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListContainerInstances: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListContainerInstancesInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  let matches: ((id: string) => boolean) | undefined;
  if (input.filter !== undefined) {
    const parsed = parseExpression(input.filter);
    if (!parsed.ok) throw new EcsError(parsed.rejection.code, parsed.rejection.message);
    const views = new Map(instanceViews(s.model, cluster.subject).map((v) => [v.id, v]));
    matches = (id) => {
      const v = views.get(id);
      return v !== undefined && evaluate(parsed.expr, v);
    };
  }
  const out: string[] = [];
  for (const subject of s.model.instancesByCluster.get(cluster.subject) ?? []) {
    const agg = s.model.instances.get(subject);
    if (!agg) continue;
    const status = agg.snapshot.value as string;
    if (input.status ? status !== input.status : status === "INACTIVE" || status === "NEW") continue;
    if (matches && !matches(agg.snapshot.context.instanceId)) continue;
    out.push(agg.snapshot.context.containerInstanceArn);
  }
  const { page, nextToken } = paginate(out, input, { c: cluster.name, f: input.filter, s: input.status });
  return { containerInstanceArns: page, ...(nextToken ? { nextToken } : {}) };
};

const DescribeContainerInstancesInput = z.object({
  containerInstances: z.array(z.string()),
  cluster: z.string().optional(),
  include: z.array(z.enum(["TAGS", "CONTAINER_INSTANCE_HEALTH"])).optional(),
});

export const DescribeContainerInstances: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeContainerInstancesInput, raw);
  if (input.containerInstances.length === 0) throw invalid("containerInstances cannot be empty.");
  if (input.containerInstances.length > 100) throw invalid("containerInstances cannot contain more than 100 elements.");
  const cluster = activeCluster(input.cluster, ctx, s);
  const include = new Set(input.include ?? []);
  const containerInstances: unknown[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const value of input.containerInstances) {
    const id = instanceIdOf(value, cluster.name);
    const subject = id ? subjects.instance(ctx.region, cluster.name, id) : undefined;
    const agg = subject ? s.model.instances.get(subject) : undefined;
    if (!agg || !subject) {
      failures.push({ arn: id ? arns.instance(ctx.scope, cluster.name, id) : value, reason: "MISSING" });
      continue;
    }
    containerInstances.push(renderInstance(agg, s.model.usage.get(subject), instanceTaskCounts(s.model, subject), include));
  }
  return { containerInstances, failures };
};
