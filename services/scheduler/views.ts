import { subjects } from "../../events/names.ts";
import { evaluate, parseExpression } from "../../machines/placement/cql.ts";
import type { ServiceTaskView } from "../../machines/service/service.reconcile.ts";
import { instanceViews } from "../control-plane/placement.ts";
import type { ReadModel } from "../control-plane/read-model.ts";

/**
 * A task's view, per folded state: the read model replaces a task's Agg on every event, so a view
 * made for an Agg stays right, and a reconcile of a large service rebuilds only the views of the
 * tasks that changed since the last one.
 */
const viewOfAgg = new WeakMap<object, ServiceTaskView>();

/** The reconcile's view of every task of a service, from the read model. */
export function serviceTaskViews(model: ReadModel, serviceSubject: string): ServiceTaskView[] {
  const out: ServiceTaskView[] = [];
  for (const subject of model.tasksByService.get(serviceSubject) ?? []) {
    const agg = model.tasks.get(subject);
    if (!agg) continue;
    const known = viewOfAgg.get(agg);
    if (known) {
      out.push(known);
      continue;
    }
    const t = agg.snapshot.context;
    const view: ServiceTaskView = {
      taskArn: t.taskArn,
      taskId: t.taskId,
      deploymentId: t.startedBy ?? "",
      instanceId: t.instanceId,
      lastStatus: agg.snapshot.value as ServiceTaskView["lastStatus"],
      desiredStatus: t.desiredStatus,
      health: t.healthStatus,
      hasHealthCheck: t.spec.containers.some((c) => c.essential !== false && c.healthCheck !== undefined),
      createdAt: t.createdAt,
      startedAt: t.startedAt,
      stoppedAt: t.stoppedAt,
      stopCode: t.stopCode,
      ...(t.protection?.enabled && t.protection.expiresAt !== undefined ? { protectedUntil: t.protection.expiresAt } : {}),
    };
    viewOfAgg.set(agg, view);
    out.push(view);
  }
  return out;
}

/** Instances of a cluster whose tasks must move (DRAINING or agent lost) and those whose agent is lost. */
export function instanceSets(model: ReadModel, clusterSubject: string) {
  const draining = new Set<string>();
  const lost = new Set<string>();
  for (const subject of model.instancesByCluster.get(clusterSubject) ?? []) {
    const agg = model.instances.get(subject);
    if (!agg) continue;
    const i = agg.snapshot.context;
    const status = agg.snapshot.value as string;
    if (status === "DRAINING" || status === "INACTIVE") draining.add(i.instanceId);
    if (status === "INACTIVE" || !i.agentConnected) {
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
