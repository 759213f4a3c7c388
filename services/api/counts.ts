import { subjects } from "../../events/names.ts";
import type { ReadModel } from "../control-plane/read-model.ts";
import type { ClusterCounts } from "./render.ts";

/** Cluster counts as ECS defines them, folded from the tasks and instances of the cluster. */
export function clusterCounts(model: ReadModel, clusterSubject: string): ClusterCounts {
  const c: ClusterCounts = {
    registeredContainerInstancesCount: 0,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    activeServicesCount: 0,
    runningEC2TasksCount: 0,
    runningFargateTasksCount: 0,
    pendingEC2TasksCount: 0,
    pendingFargateTasksCount: 0,
    activeEC2ServiceCount: 0,
    activeFargateServiceCount: 0,
    drainingEC2ServiceCount: 0,
    drainingFargateServiceCount: 0,
  };
  for (const subject of model.tasksByCluster.get(clusterSubject)?.values() ?? []) {
    const t = model.tasks.get(subject);
    if (!t) continue;
    const fargate = t.snapshot.context.spec.launchType === "FARGATE";
    if (t.snapshot.value === "RUNNING") {
      c.runningTasksCount++;
      if (fargate) c.runningFargateTasksCount++;
      else c.runningEC2TasksCount++;
    } else if (t.snapshot.value === "PENDING") {
      c.pendingTasksCount++;
      if (fargate) c.pendingFargateTasksCount++;
      else c.pendingEC2TasksCount++;
    }
  }
  for (const subject of model.servicesByCluster.get(clusterSubject) ?? []) {
    const agg = model.services.get(subject);
    if (!agg) continue;
    const fargate = agg.snapshot.context.deployments[0]?.launchType === "FARGATE";
    if (agg.snapshot.value === "ACTIVE") {
      c.activeServicesCount++;
      if (fargate) c.activeFargateServiceCount++;
      else c.activeEC2ServiceCount++;
    } else if (agg.snapshot.value === "DRAINING") {
      if (fargate) c.drainingFargateServiceCount++;
      else c.drainingEC2ServiceCount++;
    }
  }
  for (const subject of model.instancesByCluster.get(clusterSubject) ?? []) {
    const i = model.instances.get(subject);
    if (i && (i.snapshot.value === "ACTIVE" || i.snapshot.value === "DRAINING")) c.registeredContainerInstancesCount++;
  }
  return c;
}

/** Tasks of the cluster that are not STOPPED (what blocks DeleteCluster). */
export function liveTaskCount(model: ReadModel, clusterSubject: string): number {
  let n = 0;
  for (const subject of model.tasksByCluster.get(clusterSubject)?.values() ?? []) {
    if (model.tasks.get(subject)?.snapshot.value !== "STOPPED") n++;
  }
  return n;
}

export const clusterSubjectOf = (region: string, name: string) => subjects.cluster(region, name);
