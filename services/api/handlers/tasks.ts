import { z } from "zod";
import { arns, isArn } from "../../../events/arns.ts";
import { contentHash } from "../../../events/envelope.ts";
import { subjects } from "../../../events/names.ts";
import {
  CapacityProviderStrategyItem,
  LaunchType,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
  TaskOverride,
} from "../../../events/shapes.ts";
import { deploymentLaunchType, strategyToRun } from "../../../machines/account/capacity-providers.ts";
import { checkPlacement } from "../../../machines/placement/request.ts";
import { decideTask, initialTask } from "../../../machines/task/task.decide.ts";
import { reservationOf, runtimeSpec, taskArnOf } from "../../../machines/task/task.spec.ts";
import { placeTasks } from "../../control-plane/placement.ts";
import { createTask, taskCreated } from "../../control-plane/task-factory.ts";
import type { Handler } from "../context.ts";
import { EcsError, invalid, parseInput, rejectWith, unwrap } from "../errors.ts";
import { itemsNeeded, paginate, withoutPaging } from "../paging.ts";
import { JsonText, jsonStrings, RawJson } from "../raw-json.ts";
import { renderTask, renderTaskJson } from "../render.ts";
import { activeCluster, instanceIdOf, taskIdOf, taskIdResolver } from "../resolve.ts";
import { TagList, validateTags } from "../tags.ts";
import { existingService } from "./services.ts";
import { resolveTaskDefinition, TASK_DEFINITION_NOT_FOUND_TO_RUN } from "./taskdefs.ts";

const STARTED_BY = /^[A-Za-z0-9_/-]{1,128}$/;
const CLIENT_TOKEN = /^[\x21-\x7e]{1,64}$/;

const RunTaskInput = z.object({
  taskDefinition: z.string(),
  cluster: z.string().optional(),
  count: z.number().int().optional(),
  launchType: LaunchType.optional(),
  capacityProviderStrategy: z.array(CapacityProviderStrategyItem).max(20).optional(),
  networkConfiguration: NetworkConfiguration.optional(),
  overrides: TaskOverride.optional(),
  placementConstraints: z.array(PlacementConstraint).max(10).optional(),
  placementStrategy: z.array(PlacementStrategy).max(5).optional(),
  platformVersion: z.string().optional(),
  group: z.string().max(255).optional(),
  startedBy: z.string().optional(),
  propagateTags: z.enum(["TASK_DEFINITION", "SERVICE", "NONE"]).optional(),
  enableECSManagedTags: z.boolean().optional(),
  enableExecuteCommand: z.boolean().optional(),
  tags: TagList.optional(),
  referenceId: z.string().optional(),
  clientToken: z.string().optional(),
  volumeConfigurations: z.array(z.unknown()).optional(),
});

/** Overrides may total at most 8192 characters of JSON (ECS model). */
const MAX_OVERRIDES_CHARS = 8192;

export const RunTask: Handler = async (raw, ctx, s) => {
  const input = parseInput(RunTaskInput, raw);
  const count = input.count ?? 1;
  if (count < 1 || count > 10) throw invalid("count must be between 1 and 10.");
  if (input.launchType && input.capacityProviderStrategy)
    throw invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
  if (input.startedBy !== undefined && !STARTED_BY.test(input.startedBy))
    throw invalid("startedBy may contain up to 128 letters, numbers, hyphens, underscores and forward slashes.");
  if (input.clientToken !== undefined && !CLIENT_TOKEN.test(input.clientToken))
    throw invalid("clientToken must be 1-64 printable ASCII characters.");
  if (input.propagateTags === "SERVICE") throw invalid("propagateTags SERVICE is only valid for service tasks.");
  if (input.overrides && JSON.stringify(input.overrides).length > MAX_OVERRIDES_CHARS)
    throw invalid(`Container Overrides length must be at most ${MAX_OVERRIDES_CHARS}`);
  rejectWith(checkPlacement(input.placementConstraints, input.placementStrategy));
  const tags = validateTags(input.tags);
  const cluster = activeCluster(input.cluster, ctx, s);
  const definition = resolveTaskDefinition(input.taskDefinition, ctx, s, {
    requireActive: true,
    inactiveCode: "InvalidParameterException",
    notFound: TASK_DEFINITION_NOT_FOUND_TO_RUN,
  });

  // Object.assign rather than a spread and more keys: see withoutPaging (paging.ts).
  const fingerprint = contentHash(
    JSON.stringify(Object.assign({}, input, { clientToken: undefined, cluster: cluster.name })),
  );
  if (input.clientToken) {
    const earlier = s.model.clientTokens.get(`${cluster.subject}|${input.clientToken}`);
    if (earlier?.length) {
      const first = s.model.tasks.get(earlier[0] as string)?.snapshot.context;
      if (first?.clientToken !== `${input.clientToken}#${fingerprint}`)
        throw new EcsError("ConflictException", "The specified client token has already been used with different parameters.", 400, {
          resourceIds: earlier.flatMap((t) => {
            const task = s.model.tasks.get(t)?.snapshot.context;
            return task ? [taskArnOf(task)] : [];
          }),
        });
      return { tasks: earlier.map((t) => renderTask(s.model.tasks.get(t)!, new Set())), failures: [] };
    }
  }

  const providers = strategyToRun(input, cluster.agg.snapshot.context);
  if (!providers.ok) throw new EcsError(providers.rejection.code, providers.rejection.message);
  const launchType = deploymentLaunchType({ launchType: input.launchType, capacityProviderStrategy: providers.strategy });
  const networkMode = definition.networkMode ?? "bridge";
  if (networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (networkMode !== "awsvpc" && input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration is not valid for the given networkMode of this task definition.");
  if (launchType === "FARGATE" && !definition.compatibilities.includes("FARGATE"))
    throw new EcsError("InvalidParameterException", "Task definition does not support launch_type FARGATE.");

  // Build the tasks first (pure), then place and append under the cluster's placement lock.
  const built = Array.from({ length: count }, (_, i) => {
    const taskId = input.clientToken ? tokenTaskId(ctx.scope, cluster.name, input.clientToken, i) : s.ids.hex32();
    const taskArn = arns.task(ctx.scope, cluster.name, taskId);
    const r = runtimeSpec({
      taskArn,
      taskId,
      clusterArn: cluster.arn,
      cluster: cluster.name,
      definition,
      overrides: input.overrides ?? {},
      launchType,
    });
    if (!r.ok) throw new EcsError(r.rejection.code, r.rejection.message);
    return r.spec;
  });
  const demandSpec = built[0]!;
  const group = input.group ?? `family:${definition.family}`;
  const propagated = input.propagateTags === "TASK_DEFINITION" ? mergeTagLists(definition.tags, tags) : tags;
  // ECS managed tags: a standalone task is tagged with its cluster's name.
  const taskTags = input.enableECSManagedTags
    ? [...propagated, { key: "aws:ecs:clusterName", value: cluster.name }]
    : propagated;

  return placeTasks(s, ctx, cluster, {
    count,
    reservation: reservationOf(demandSpec),
    group,
    launchType,
    requiresAttributes: definition.requiresAttributes,
    constraints: [...definition.placementConstraints, ...(input.placementConstraints ?? [])],
    strategies: input.placementStrategy ?? [],
    create: async (i, placement) => {
      const event = taskCreated(
        {
          scope: ctx.scope,
          at: ctx.now,
          spec: built[i]!,
          placement,
          group,
          startedBy: input.startedBy,
          overrides: input.overrides ?? {},
          tags: taskTags,
          clientToken: input.clientToken ? `${input.clientToken}#${fingerprint}` : undefined,
          launchType,
          platformVersion: input.platformVersion,
          networkConfiguration: input.networkConfiguration,
          // The strategy's first provider: Berth's providers share the cluster's instances.
          capacityProviderName: providers.strategy?.[0]?.capacityProvider,
          enableExecuteCommand: input.enableExecuteCommand ?? false,
          placementConstraints: input.placementConstraints,
        },
        s.ids,
      );
      const r = await createTask(s.bus, s.model, ctx.region, event, ctx.requestId);
      if (!r.ok) {
        // The task exists: an earlier attempt with this clientToken was stored after all (its
        // answer was lost to a crash, or its append outlived a timeout). It is this call's task.
        const existing = s.model.tasks.get(subjects.task(ctx.region, cluster.name, built[i]!.taskId));
        if (input.clientToken && existing) {
          if (existing.snapshot.context.clientToken === event.clientToken) return renderTask(existing, new Set());
          throw new EcsError("ConflictException", "The specified client token has already been used with different parameters.", 400, {
            resourceIds: [taskArnOf(existing.snapshot.context)],
          });
        }
        throw new EcsError(r.rejection.code, r.rejection.message);
      }
      return renderTask(r.agg, new Set());
    },
  });
};

/**
 * The id of the i-th task of a RunTask call with a clientToken. Derived from the token, so every
 * retry of the call names the same task subject: the append's expected-sequence check then
 * refuses a second TaskCreated even when the first attempt's write landed after its caller was
 * told it failed.
 */
function tokenTaskId(scope: { region: string; account: string }, cluster: string, token: string, i: number): string {
  const key = JSON.stringify([scope.account, scope.region, cluster, token, i]);
  return (contentHash(`a${key}`) + contentHash(`b${key}`) + contentHash(`c${key}`)).slice(0, 32);
}

function mergeTagLists(a: { key: string; value: string }[], b: { key: string; value: string }[]) {
  const m = new Map(a.map((t) => [t.key, t.value]));
  for (const t of b) m.set(t.key, t.value);
  return [...m].map(([key, value]) => ({ key, value }));
}

const StopTaskInput = z.object({
  task: z.string(),
  cluster: z.string().optional(),
  reason: z.string().max(1024).optional(),
});

export const StopTask: Handler = async (raw, ctx, s) => {
  const input = parseInput(StopTaskInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  const taskId = taskIdOf(input.task, cluster.name);
  if (!taskId) throw invalid("Task Identifier is invalid");
  const subject = subjects.task(ctx.region, cluster.name, taskId);
  if (!s.model.tasks.get(subject)) throw invalid("The referenced task was not found.");
  await unwrap(
    s.bus.execute({
      subject,
      resource: taskArnOf(s.model.tasks.get(subject)!.snapshot.context),
      get: () => s.model.tasks.get(subject),
      initial: initialTask,
      decide: (state) =>
        decideTask(
          { type: "StopTask", at: ctx.now, stopCode: "UserInitiated", reason: input.reason || "Task stopped by user" },
          state,
        ),
      meta: { correlationid: ctx.requestId },
    }),
  );
  return { task: renderTask(s.model.tasks.get(subject)!, new Set()) };
};

// Schemas are built once: zod compiles each schema object on first use, which per request cost more than the work.
const DescribeTasksInput = z.object({
  tasks: z.array(z.string()).optional(),
  cluster: z.string().optional(),
  include: z.array(z.enum(["TAGS"])).optional(),
});

export const DescribeTasks: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeTasksInput, raw);
  if (!input.tasks || input.tasks.length === 0) throw invalid("Tasks cannot be empty.");
  if (input.tasks.length > 100) throw invalid("Tasks cannot contain more than 100 elements.");
  const cluster = activeCluster(input.cluster, ctx, s);
  const include = new Set(input.include ?? []);
  // Sent as each task's cached JSON bytes: a 100-task answer is ~130 kB, rendered anew (or joined
  // as text and encoded for the socket) it cost more than everything else.
  const parts: Buffer[] = [TASKS_OPEN];
  const failures: { arn: string; reason: string }[] = [];
  const idOf = taskIdResolver(cluster.name, ctx.scope);
  // By id in the cluster's own index: no subject string built and hashed per task.
  const ids = s.model.tasksByCluster.get(cluster.subject);
  for (const value of input.tasks) {
    const id = idOf(value);
    // A value that is neither an ARN nor of a task id's length is refused whole, in ECS's words
    // (seen on AWS for "None"); an id of the right length that names no task is MISSING.
    if (id === null && !isArn(value) && value.length !== 32 && value.length !== 36)
      throw invalid("taskId length should be one of [32,36]");
    const subject = id ? ids?.get(id) : undefined;
    const agg = subject ? s.model.tasks.get(subject) : undefined;
    if (agg) {
      if (parts.length > 1) parts.push(COMMA);
      parts.push(renderTaskJson(agg, include));
    } else failures.push({ arn: id ? arns.task(ctx.scope, cluster.name, id) : value, reason: "MISSING" });
  }
  parts.push(Buffer.from(`],"failures":${JSON.stringify(failures)}}`, "utf8"));
  return new RawJson(parts);
};

const TASKS_OPEN = Buffer.from('{"tasks":[');
const COMMA = Buffer.from(",");

const FAMILY = /^[a-zA-Z0-9\-_]+$/;

const ListTasksInput = z.object({
  cluster: z.string().optional(),
  containerInstance: z.string().optional(),
  family: z.string().optional(),
  serviceName: z.string().optional(),
  startedBy: z.string().optional(),
  desiredStatus: z.enum(["RUNNING", "PENDING", "STOPPED"]).optional(),
  launchType: LaunchType.optional(),
  daemonName: z.string().optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListTasks: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListTasksInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  if (input.family !== undefined && !FAMILY.test(input.family)) throw invalid("family must match ^[a-zA-Z0-9\\-_]+$");
  const others = [input.containerInstance, input.family, input.serviceName, input.launchType].some((v) => v !== undefined);
  // ECS takes startedBy alone, and serviceName without a family or instance (desiredStatus goes
  // with either); its words for the refusals are these (seen on AWS).
  if (input.startedBy !== undefined && (others || input.daemonName !== undefined))
    throw invalid("cannot specify startedBy with other arguments");
  if (input.serviceName !== undefined && (input.family !== undefined || input.containerInstance !== undefined))
    throw invalid("cannot specify serviceName with other arguments");
  let instanceId: string | null | undefined;
  if (input.containerInstance !== undefined) {
    instanceId = instanceIdOf(input.containerInstance, cluster.name);
    if (!instanceId) throw invalid("Container instance identifier is invalid.");
  }
  const desired = input.desiredStatus ?? "RUNNING";
  // A service the cluster never had is ECS's ServiceNotFoundException, not an empty list.
  const group = input.serviceName !== undefined ? `service:${existingService(input.serviceName, cluster, ctx, s).name}` : undefined;
  const needed = itemsNeeded(input);
  // Berth's task ARNs are their cluster's prefix and their ids: listed as such unless the
  // cluster holds another (clustersWithIrregularArns).
  const prefix = s.model.taskArnPrefixes.get(cluster.subject) ?? "";
  const regular = !s.model.clustersWithIrregularArns.has(cluster.subject);
  const found: string[] = [];
  if (desired === "RUNNING" && !others && input.startedBy === undefined) {
    // The default listing, read from the cluster's index of the tasks meant to run (same order).
    const running = s.model.desiredRunningByCluster.get(cluster.subject);
    for (const item of (regular ? running?.values() : running?.keys()) ?? []) {
      if (found.length >= needed) break;
      if (regular) found.push(item);
      else {
        const t = s.model.tasks.get(item)?.snapshot.context;
        if (t) found.push(taskArnOf(t));
      }
    }
  } else {
    for (const subject of s.model.tasksByCluster.get(cluster.subject)?.values() ?? []) {
      if (found.length >= needed) break;
      const t = s.model.tasks.get(subject)?.snapshot.context;
      if (!t || t.desiredStatus !== desired) continue;
      if (input.family !== undefined && t.spec.family !== input.family) continue;
      if (input.startedBy !== undefined && t.startedBy !== input.startedBy) continue;
      if (input.launchType !== undefined && t.spec.launchType !== input.launchType) continue;
      if (instanceId && t.instanceId !== instanceId) continue;
      if (group && t.group !== group) continue;
      found.push(regular ? t.taskId : taskArnOf(t));
    }
  }
  const { page, nextToken } = paginate(found, input, withoutPaging(input));
  const taskArns = regular ? jsonStrings(page, true, prefix) : jsonStrings(page, false);
  return new JsonText(`{"taskArns":${taskArns}${nextToken ? `,"nextToken":${JSON.stringify(nextToken)}` : ""}}`);
};
