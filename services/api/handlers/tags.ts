import { z } from "zod";
import { isArn, parseArn } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import type { Tag } from "../../../events/shapes.ts";
import { activeProvider } from "../../../machines/account/account.decide.ts";
import { isBuiltIn } from "../../../machines/account/capacity-providers.ts";
import { decideCluster, initialCluster } from "../../../machines/cluster/cluster.decide.ts";
import type { Decision } from "../../../machines/decider.ts";
import { decideInstance, initialInstance } from "../../../machines/instance/instance.decide.ts";
import { decideService, initialService } from "../../../machines/service/service.decide.ts";
import { decideTask, initialTask } from "../../../machines/task/task.decide.ts";
import { decideTaskDefinition, foldTaskDefinition, revisionOf } from "../../../machines/taskdef/taskdef.decide.ts";
import type { CommandSpec } from "../../control-plane/commands.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput, unwrap } from "../errors.ts";
import { activeCluster, clusterRef } from "../resolve.ts";
import { MAX_TAGS, validateTags } from "../tags.ts";
import { accountSnapshot, runAccountCommand } from "./account.ts";
import { parseTaskDefinitionRef } from "./taskdefs.ts";

/**
 * TagResource, UntagResource and ListTagsForResource on every taggable ECS resource: clusters,
 * task definitions (a revision), tasks, services, container instances and capacity providers.
 * Only long-form ARNs name a task, service or container instance (ECS refuses the short forms).
 * Each resource's own decider records the change (existing keys overwritten, others kept).
 */

const LONG_ARN_REQUIRED = "Long arn format must be used for tagging operations";
const INVALID_ARN = "The ARN provided is invalid.";
const notFound = () => new EcsError("ResourceNotFoundException", "The specified resource could not be found.");
/** ECS's answer, to TagResource and ListTagsForResource alike, for a deleted cluster or a resource in one. */
const CLUSTER_INACTIVE = "The specified cluster is inactive. Specify an active cluster and try again.";
/** ECS's answer for a task that has stopped (its tags went with it). */
const TASK_STOPPED = "The specified task is stopped. Specify a running task and try again.";

/**
 * The ACTIVE cluster a tagged resource is in. A deleted (INACTIVE) cluster is an invalid parameter
 * here, as ECS answers it; one that never existed is ClusterNotFoundException.
 */
function taggingCluster(name: string | undefined, ctx: RequestContext, s: ApiServices) {
  if (clusterRef(name, ctx, s).agg?.snapshot.value === "INACTIVE") throw invalid(CLUSTER_INACTIVE);
  return activeCluster(name, ctx, s);
}

type Change = { add: Tag[] } | { remove: string[] };

/** A resource ARN resolved to the aggregate that holds its tags. */
interface Target {
  tags(): Tag[];
  change(c: Change): Promise<void>;
}

/**
 * A resource whose tags one aggregate holds: changes go through that aggregate's decider with a
 * tag or untag command (`command` builds it), so each resource kind states only what differs.
 */
function aggregateTarget<S, E extends { type: string; at: number }>(
  s: ApiServices,
  o: Omit<CommandSpec<S, E>, "decide"> & { tags: () => Tag[]; decide: (c: Change, state: S) => Decision<E> },
): Target {
  const { tags, decide, ...spec } = o;
  return {
    tags,
    change: async (c) => {
      await unwrap(s.bus.execute({ ...spec, decide: (st) => decide(c, st) }));
    },
  };
}

function resolve(resourceArn: string, ctx: RequestContext, s: ApiServices): Target {
  const p = isArn(resourceArn) ? parseArn(resourceArn) : null;
  if (!p) throw invalid(INVALID_ARN);
  if (p.region !== ctx.region || p.account !== ctx.scope.account) throw notFound();
  const meta = { correlationid: ctx.requestId };
  switch (p.kind) {
    case "cluster": {
      if (p.path.length !== 1) throw invalid(INVALID_ARN);
      const ref = taggingCluster(p.path[0], ctx, s);
      return aggregateTarget(s, {
        tags: () => ref.agg.snapshot.context.tags,
        subject: ref.subject,
        resource: ref.arn,
        get: () => s.model.clusters.get(ref.subject),
        initial: initialCluster,
        decide: (c, st) =>
          decideCluster("add" in c ? { type: "TagCluster", at: ctx.now, tags: c.add } : { type: "UntagCluster", at: ctx.now, tagKeys: c.remove }, st),
        meta,
      });
    }
    case "task-definition": {
      const ref = parseTaskDefinitionRef(resourceArn, ctx);
      if (!ref || ref.revision === undefined) throw invalid(INVALID_ARN);
      const revision = ref.revision;
      const subject = subjects.taskDefinition(ctx.region, ref.family);
      const agg = s.model.taskDefinitions.get(subject);
      const rev = agg ? revisionOf(agg.snapshot, revision) : undefined;
      if (!rev || rev.status === "DELETE_IN_PROGRESS") throw notFound();
      return aggregateTarget(s, {
        tags: () => rev.tags,
        subject,
        resource: rev.taskDefinitionArn,
        get: () => s.model.taskDefinitions.get(subject),
        initial: () => foldTaskDefinition([]),
        decide: (c, st) =>
          decideTaskDefinition(
            "add" in c ? { type: "TagRevision", revision, tags: c.add } : { type: "UntagRevision", revision, tagKeys: c.remove },
            st,
            { scope: ctx.scope, now: ctx.now },
          ),
        meta,
      });
    }
    case "task": {
      if (p.path.length !== 2) throw invalid(LONG_ARN_REQUIRED);
      const cluster = taggingCluster(p.path[0], ctx, s);
      const subject = subjects.task(ctx.region, cluster.name, p.path[1] as string);
      const agg = /^[a-f0-9]{32}$/.test(p.path[1] as string) ? s.model.tasks.get(subject) : undefined;
      if (!agg) throw notFound();
      if (agg.snapshot.value === "STOPPED") throw invalid(TASK_STOPPED);
      return aggregateTarget(s, {
        tags: () => agg.snapshot.context.tags,
        subject,
        resource: resourceArn,
        get: () => s.model.tasks.get(subject),
        initial: initialTask,
        decide: (c, st) =>
          decideTask("add" in c ? { type: "TagTask", at: ctx.now, tags: c.add } : { type: "UntagTask", at: ctx.now, tagKeys: c.remove }, st),
        meta,
      });
    }
    case "service": {
      if (p.path.length !== 2) throw invalid(LONG_ARN_REQUIRED);
      const cluster = taggingCluster(p.path[0], ctx, s);
      const name = p.path[1] as string;
      const subject = /^[A-Za-z0-9_-]{1,255}$/.test(name)
        ? subjects.service(ctx.region, cluster.name, name)
        : undefined;
      const agg = subject ? s.model.services.get(subject) : undefined;
      if (!agg || !subject || agg.snapshot.value === "NEW") throw notFound();
      return aggregateTarget(s, {
        tags: () => agg.snapshot.context.tags,
        subject,
        resource: agg.snapshot.context.serviceArn,
        get: () => s.model.services.get(subject),
        initial: initialService,
        decide: (c, st) =>
          decideService("add" in c ? { type: "TagService", at: ctx.now, tags: c.add } : { type: "UntagService", at: ctx.now, tagKeys: c.remove }, st),
        meta,
      });
    }
    case "container-instance": {
      if (p.path.length !== 2) throw invalid(LONG_ARN_REQUIRED);
      const cluster = taggingCluster(p.path[0], ctx, s);
      const id = p.path[1] as string;
      const subject = /^[a-f0-9]{32}$/.test(id) ? subjects.instance(ctx.region, cluster.name, id) : undefined;
      const agg = subject ? s.model.instances.get(subject) : undefined;
      if (!agg || !subject || agg.snapshot.value === "NEW") throw notFound();
      return aggregateTarget(s, {
        tags: () => agg.snapshot.context.tags,
        subject,
        resource: agg.snapshot.context.containerInstanceArn,
        get: () => s.model.instances.get(subject),
        initial: initialInstance,
        decide: (c, st) => decideInstance("add" in c ? { type: "Tag", at: ctx.now, tags: c.add } : { type: "Untag", at: ctx.now, tagKeys: c.remove }, st),
        meta,
      });
    }
    case "capacity-provider": {
      if (p.path.length !== 1) throw invalid(INVALID_ARN);
      const name = p.path[0] as string;
      if (isBuiltIn(name))
        return {
          tags: () => [],
          change: async () => {
            throw invalid(`The ${name} capacity provider is reserved and cannot be tagged.`);
          },
        };
      const provider = activeProvider(accountSnapshot(s, ctx.region), name);
      if (!provider) throw notFound();
      return {
        tags: () => provider.tags,
        change: async (c) => {
          await runAccountCommand(
            "add" in c
              ? { type: "TagCapacityProvider", at: ctx.now, name, tags: c.add }
              : { type: "UntagCapacityProvider", at: ctx.now, name, tagKeys: c.remove },
            resourceArn,
            ctx,
            s,
          );
        },
      };
    }
    default:
      // Containers have ARNs but no tags.
      throw invalid(INVALID_ARN);
  }
}

const counted = (tags: readonly Tag[]) => tags.filter((t) => !t.key.toLowerCase().startsWith("aws:")).length;

const TagResourceInput = z.object({
  resourceArn: z.string(),
  tags: z.array(z.object({ key: z.string(), value: z.string().optional() })),
});

export const TagResource: Handler = async (raw, ctx, s) => {
  const input = parseInput(TagResourceInput, raw);
  const tags = validateTags(input.tags.map((t) => ({ key: t.key, value: t.value ?? "" })));
  const target = resolve(input.resourceArn, ctx, s);
  const keys = new Set(tags.map((t) => t.key));
  if (counted([...target.tags().filter((t) => !keys.has(t.key)), ...tags]) > MAX_TAGS)
    throw new EcsError("LimitExceededException", `A resource can have at most ${MAX_TAGS} tags.`);
  if (tags.length > 0) await target.change({ add: tags });
  return {};
};

const UntagResourceInput = z.object({ resourceArn: z.string(), tagKeys: z.array(z.string().min(1).max(128)) });

export const UntagResource: Handler = async (raw, ctx, s) => {
  const input = parseInput(UntagResourceInput, raw);
  const target = resolve(input.resourceArn, ctx, s);
  if (input.tagKeys.some((k) => k.toLowerCase().startsWith("aws:")))
    throw invalid("Tag keys beginning with aws: are reserved and cannot be removed.");
  if (input.tagKeys.length > 0) await target.change({ remove: input.tagKeys });
  return {};
};

const ListTagsForResourceInput = z.object({ resourceArn: z.string() });

export const ListTagsForResource: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListTagsForResourceInput, raw);
  let target: Target;
  try {
    target = resolve(input.resourceArn, ctx, s);
  } catch (err) {
    // ListTagsForResource has no ResourceNotFoundException in ECS's model: an unknown resource is an invalid parameter.
    if (err instanceof EcsError && err.code === "ResourceNotFoundException")
      throw invalid("The specified resource could not be found.");
    throw err;
  }
  return { tags: target.tags() };
};
