import { arns, type Scope } from "../../events/arns.ts";
import { subjects } from "../../events/names.ts";
import type { LaunchType, NetworkConfiguration, PlacementConstraint, Tag, TaskOverride } from "../../events/shapes.ts";
import type { TaskCreated, TaskRuntimeSpec } from "../../events/task.events.ts";
import type { Rejection } from "../../machines/decider.ts";
import { decideTask, initialTask, type TaskSnapshot } from "../../machines/task/task.decide.ts";
import { reservationOf } from "../../machines/task/task.spec.ts";
import type { Ids } from "../api/context.ts";
import type { CommandBus } from "./commands.ts";
import type { Placement } from "./placement.ts";
import type { Agg, ReadModel } from "./read-model.ts";

export interface NewTask {
  scope: Scope;
  at: number;
  spec: TaskRuntimeSpec;
  placement: Placement;
  group: string;
  startedBy?: string;
  overrides: TaskOverride;
  tags: Tag[];
  clientToken?: string;
  launchType: LaunchType;
  platformVersion?: string;
  /** An awsvpc task's network configuration: its interface is put in the first of its subnets. */
  networkConfiguration?: NetworkConfiguration;
  capacityProviderName?: string;
  enableExecuteCommand: boolean;
  placementConstraints?: PlacementConstraint[];
}

/** The TaskCreated fact for a placed task (RunTask, StartTask and the service scheduler all build it here). */
export function taskCreated(t: NewTask, ids: Ids): TaskCreated {
  return {
    type: "TaskCreated",
    at: t.at,
    taskArn: t.spec.taskArn,
    containerInstanceArn: t.placement.instanceArn,
    instanceId: t.placement.instanceId,
    group: t.group,
    startedBy: t.startedBy,
    overrides: t.overrides,
    tags: t.tags,
    clientToken: t.clientToken,
    availabilityZone: t.placement.availabilityZone,
    platformVersion: t.launchType === "FARGATE" ? resolvePlatformVersion(t.platformVersion) : undefined,
    subnetId: t.spec.networkMode === "awsvpc" ? t.networkConfiguration?.awsvpcConfiguration?.subnets[0] : undefined,
    capacityProviderName: t.capacityProviderName,
    enableExecuteCommand: t.enableExecuteCommand,
    placementConstraints: t.placementConstraints,
    reservation: reservationOf(t.spec),
    containers: t.spec.containers.map((c) => ({
      name: c.name,
      containerArn: arns.container(t.scope, t.spec.cluster, t.spec.taskId, ids.uuid()),
    })),
    spec: t.spec,
    initialStatus: t.spec.networkMode === "awsvpc" ? "PROVISIONING" : "PENDING",
  };
}

/** LATEST resolves to the current Fargate platform version, as ECS shows it on tasks. */
export const resolvePlatformVersion = (v: string | undefined) => (!v || v === "LATEST" ? "1.4.0" : v);

/** Appends a TaskCreated; resolves with the task as the read model now holds it. */
export async function createTask(
  bus: CommandBus,
  model: ReadModel,
  region: string,
  event: TaskCreated,
  correlationid?: string,
  causationid?: string,
): Promise<{ ok: true; agg: Agg<TaskSnapshot> } | { ok: false; rejection: Rejection }> {
  const subject = subjects.task(region, event.spec.cluster, event.spec.taskId);
  const r = await bus.execute({
    subject,
    resource: event.taskArn,
    get: () => model.tasks.get(subject),
    initial: initialTask,
    decide: (state) => decideTask({ type: "CreateTask", event }, state),
    meta: { ...(correlationid ? { correlationid } : {}), ...(causationid ? { causationid } : {}) },
  });
  if (!r.ok) return r;
  const agg = model.tasks.get(subject);
  if (!agg) throw new Error(`task ${event.taskArn} missing from the read model after its creation`);
  return { ok: true, agg };
}
