import { z } from "zod";
import { arns } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { NetworkConfiguration, TaskOverride } from "../../../events/shapes.ts";
import { place } from "../../../machines/placement/place.ts";
import type { CapacityKind, TaskDemand } from "../../../machines/placement/types.ts";
import { reservationOf, runtimeSpec } from "../../../machines/task/task.spec.ts";
import { instanceViews } from "../../control-plane/placement.ts";
import { createTask, taskCreated } from "../../control-plane/task-factory.ts";
import type { Handler } from "../context.ts";
import { EcsError, invalid, parseInput } from "../errors.ts";
import { renderTask } from "../render.ts";
import { activeCluster, instanceIdOf } from "../resolve.ts";
import { TagList, validateTags } from "../tags.ts";
import { resolveTaskDefinition } from "./taskdefs.ts";

/**
 * StartTask: one task on each container instance named (up to 10), no placement strategy or
 * constraints — the caller chose the instances. Each instance is still checked the way placement
 * checks it (launch type it offers, connected agent, required attributes, CPU, memory, ports), and
 * an instance that cannot take the task yields ECS's failure for it: MISSING (unknown), INACTIVE
 * (deregistered), AGENT, ATTRIBUTE or RESOURCE:*. A DRAINING instance takes a task started this
 * way: draining stops the scheduler from placing there, and StartTask does not go through it.
 */

/** StartTask's startedBy: up to 36 letters, digits, hyphens, slashes and underscores (API model). */
const STARTED_BY = /^[A-Za-z0-9_/-]{1,36}$/;
const MAX_OVERRIDES_CHARS = 8192;
const MAX_INSTANCES = 10;

const StartTaskInput = z.object({
  taskDefinition: z.string(),
  containerInstances: z.array(z.string()),
  cluster: z.string().optional(),
  enableECSManagedTags: z.boolean().optional(),
  enableExecuteCommand: z.boolean().optional(),
  group: z.string().max(255).optional(),
  networkConfiguration: NetworkConfiguration.optional(),
  overrides: TaskOverride.optional(),
  propagateTags: z.enum(["TASK_DEFINITION", "SERVICE", "NONE"]).optional(),
  referenceId: z.string().optional(),
  startedBy: z.string().optional(),
  tags: TagList.optional(),
  volumeConfigurations: z.array(z.unknown()).optional(),
});

export const StartTask: Handler = async (raw, ctx, s) => {
  const input = parseInput(StartTaskInput, raw);
  if (input.containerInstances.length === 0) throw invalid("containerInstances cannot be empty.");
  if (input.containerInstances.length > MAX_INSTANCES)
    throw invalid(`containerInstances cannot contain more than ${MAX_INSTANCES} elements.`);
  if (input.startedBy !== undefined && !STARTED_BY.test(input.startedBy))
    throw invalid("startedBy may contain up to 36 letters, numbers, hyphens, underscores and forward slashes.");
  if (input.propagateTags === "SERVICE") throw invalid("propagateTags SERVICE is only valid for service tasks.");
  if (input.overrides && JSON.stringify(input.overrides).length > MAX_OVERRIDES_CHARS)
    throw invalid(`Container Overrides length must be at most ${MAX_OVERRIDES_CHARS}`);
  const tags = validateTags(input.tags);
  const cluster = activeCluster(input.cluster, ctx, s);
  const definition = resolveTaskDefinition(input.taskDefinition, ctx, s, { requireActive: true });
  const networkMode = definition.networkMode ?? "bridge";
  if (networkMode === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (networkMode !== "awsvpc" && input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration is not valid for the given networkMode of this task definition.");
  if (!definition.compatibilities.includes("EC2") && !definition.compatibilities.includes("EXTERNAL"))
    throw invalid("Task definition does not support launch_type EC2.");

  const group = input.group ?? `family:${definition.family}`;
  const propagated = input.propagateTags === "TASK_DEFINITION" ? merge(definition.tags, tags) : tags;
  // ECS managed tags: a standalone task is tagged with its cluster's name.
  const taskTags = input.enableECSManagedTags
    ? [...propagated, { key: "aws:ecs:clusterName", value: cluster.name }]
    : propagated;
  const overrides = input.overrides ?? {};
  // The overrides are checked once, before anything is placed.
  const probe = runtimeSpec({
    taskArn: "",
    taskId: "",
    clusterArn: cluster.arn,
    cluster: cluster.name,
    definition,
    overrides,
    launchType: "EC2",
  });
  if (!probe.ok) throw new EcsError(probe.rejection.code, probe.rejection.message);

  const tasks: unknown[] = [];
  const failures: { arn: string; reason: string; detail?: string }[] = [];
  // Under the cluster's placement lock: each instance's remaining resources include the tasks just started.
  await s.placementLock.run(cluster.subject, async () => {
    for (const value of input.containerInstances) {
      const id = instanceIdOf(value, cluster.name);
      const arn = id ? arns.instance(ctx.scope, cluster.name, id) : value;
      const view = id ? instanceViews(s.model, cluster.subject).find((v) => v.id === id) : undefined;
      if (!view) {
        const known = id ? s.model.instances.get(subjects.instance(ctx.region, cluster.name, id)) : undefined;
        failures.push({ arn, reason: known?.snapshot.value === "INACTIVE" ? "INACTIVE" : "MISSING" });
        continue;
      }
      const launchType: CapacityKind = view.capacity.includes("EC2")
        ? "EC2"
        : view.capacity.includes("EXTERNAL")
          ? "EXTERNAL"
          : "EC2";
      const taskId = s.ids.hex32();
      const built = runtimeSpec({
        taskArn: arns.task(ctx.scope, cluster.name, taskId),
        taskId,
        clusterArn: cluster.arn,
        cluster: cluster.name,
        definition,
        overrides,
        launchType,
      });
      if (!built.ok) throw new EcsError(built.rejection.code, built.rejection.message);
      const r = reservationOf(built.spec);
      const demand: TaskDemand = {
        ...r,
        requiresAttributes: definition.requiresAttributes,
        group,
        launchType,
        constraints: [],
        strategies: [],
      };
      const [result] = place([demand], [{ ...view, status: "ACTIVE" }], { seed: ctx.now, clusterArn: cluster.arn });
      if (!result || "failed" in result) {
        failures.push({
          arn: view.arn,
          reason: result?.failed.reason ?? "MISSING",
          ...(result?.failed.detail ? { detail: result.failed.detail } : {}),
        });
        continue;
      }
      const az = view.attributes["ecs.availability-zone"] ?? undefined;
      const event = taskCreated(
        {
          scope: ctx.scope,
          at: ctx.now,
          spec: built.spec,
          placement: { instanceArn: view.arn, instanceId: view.id, ...(az ? { availabilityZone: az } : {}) },
          group,
          startedBy: input.startedBy,
          overrides,
          tags: taskTags,
          launchType,
          networkConfiguration: input.networkConfiguration,
          enableExecuteCommand: input.enableExecuteCommand ?? false,
        },
        s.ids,
      );
      const created = await createTask(s.bus, s.model, ctx.region, event, ctx.requestId);
      if (!created.ok) throw new EcsError(created.rejection.code, created.rejection.message);
      tasks.push(renderTask(created.agg, new Set()));
    }
  });
  return { tasks, failures };
};

function merge(a: { key: string; value: string }[], b: { key: string; value: string }[]) {
  const m = new Map(a.map((t) => [t.key, t.value]));
  for (const t of b) m.set(t.key, t.value);
  return [...m].map(([key, value]) => ({ key, value }));
}
