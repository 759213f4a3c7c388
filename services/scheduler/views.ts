import { subjects } from "../../events/names.ts";
import type { TaskSpec } from "../../events/task.events.ts";
import { evaluate, parseExpression } from "../../machines/placement/cql.ts";
import type { ServiceTaskView } from "../../machines/service/service.reconcile.ts";
import type { TaskSnapshot } from "../../machines/task/task.decide.ts";
import { taskArnOf } from "../../machines/task/task.spec.ts";
import { instanceViews } from "../control-plane/placement.ts";
import type { Agg, ReadModel } from "../control-plane/read-model.ts";

/**
 * A task as the reconcile sees it, read through to the task's folded state (the read model
 * replaces a task's Agg on every event, so a view made for an Agg stays right). A view holds
 * nothing but its Agg: a reconcile of a service of 5,000 tasks makes 5,000 of them, short-lived,
 * instead of copying each task's fields — or keeping copies of them all between reconciles.
 */
class TaskView implements ServiceTaskView {
  constructor(private readonly agg: Agg<TaskSnapshot>) {}
  get taskArn() {
    return taskArnOf(this.agg.snapshot.context);
  }
  get taskId() {
    return this.agg.snapshot.context.taskId;
  }
  get deploymentId() {
    return this.agg.snapshot.context.startedBy ?? "";
  }
  get instanceId() {
    return this.agg.snapshot.context.instanceId;
  }
  get lastStatus() {
    return this.agg.snapshot.value as ServiceTaskView["lastStatus"];
  }
  get desiredStatus() {
    return this.agg.snapshot.context.desiredStatus;
  }
  get health() {
    return this.agg.snapshot.context.healthStatus;
  }
  get hasHealthCheck() {
    return hasHealthCheck(this.agg.snapshot.context.spec);
  }
  get createdAt() {
    return this.agg.snapshot.context.createdAt;
  }
  get startedAt() {
    return this.agg.snapshot.context.startedAt;
  }
  get stoppedAt() {
    return this.agg.snapshot.context.stoppedAt;
  }
  get stopCode() {
    return this.agg.snapshot.context.stopCode;
  }
  get stoppedReason() {
    return this.agg.snapshot.context.stoppedReason;
  }
  get protectedUntil() {
    const p = this.agg.snapshot.context.protection;
    return p?.enabled ? p.expiresAt : undefined;
  }
}

/** Whether a task of this (shared) spec has an essential container with a health check; once per spec. */
const healthChecked = new WeakMap<TaskSpec, boolean>();
function hasHealthCheck(spec: TaskSpec): boolean {
  let known = healthChecked.get(spec);
  if (known === undefined) {
    known = spec.containers.some((c) => c.essential !== false && c.healthCheck !== undefined);
    healthChecked.set(spec, known);
  }
  return known;
}

/** The reconcile's view of every task of a service, from the read model. */
export function serviceTaskViews(model: ReadModel, serviceSubject: string): ServiceTaskView[] {
  const out: ServiceTaskView[] = [];
  for (const subject of model.tasksByService.get(serviceSubject) ?? []) {
    const agg = model.tasks.get(subject);
    if (agg) out.push(new TaskView(agg));
  }
  return out;
}

/**
 * Instances of a cluster whose tasks must move (DRAINING or agent lost) and those whose agent is
 * lost. A deregistered (INACTIVE) instance is in neither: its tasks are stopped as orphaned
 * (`stopOrphanedTasks`), and the services replace them as they stop.
 */
export function instanceSets(model: ReadModel, clusterSubject: string) {
  const draining = new Set<string>();
  const lost = new Set<string>();
  for (const subject of model.instancesByCluster.get(clusterSubject) ?? []) {
    const agg = model.instances.get(subject);
    if (!agg) continue;
    const i = agg.snapshot.context;
    const status = agg.snapshot.value as string;
    if (status === "INACTIVE") continue;
    if (status === "DRAINING") draining.add(i.instanceId);
    if (!i.agentConnected) {
      draining.add(i.instanceId);
      lost.add(i.instanceId);
    }
  }
  return { draining, lost };
}

/**
 * DAEMON services run one task on every ACTIVE instance with a connected agent that satisfies the
 * service's memberOf constraints and offers the launch type. (Resources are not part of
 * eligibility: an instance that cannot fit the task yields a placement failure message.)
 */
export function daemonInstances(
  model: ReadModel,
  clusterSubject: string,
  constraints: { type?: string; expression?: string }[],
  launchType: string,
): string[] {
  const exprs = constraints
    .filter((c) => c.type === "memberOf" && c.expression)
    .map((c) => parseExpression(c.expression as string))
    .flatMap((p) => (p.ok ? [p.expr] : []));
  return instanceViews(model, clusterSubject)
    .filter((v) => v.status === "ACTIVE" && v.agentConnected && v.capacity.includes(launchType as never))
    .filter((v) => exprs.every((e) => evaluate(e, v)))
    .map((v) => v.id);
}

export const serviceSubjectOf = (region: string, cluster: string, name: string) => subjects.service(region, cluster, name);
