import { arns, parseArn, type Scope } from "../../events/arns.ts";
import { subjects } from "../../events/names.ts";
import type { DeploymentConfiguration } from "../../events/service.events.ts";
import { deploymentLaunchType, withStrategyDefaults } from "../../machines/account/capacity-providers.ts";
import type { ServiceSnapshot } from "../../machines/service/service.decide.ts";
import { type Deployment, type ServiceContext, serviceRevisionOf } from "../../machines/service/service.machine.ts";
import { failedTaskCount, type ServiceTaskView } from "../../machines/service/service.reconcile.ts";
import type { Agg, ReadModel } from "../control-plane/read-model.ts";
import { instanceSets, serviceTaskViews } from "../scheduler/views.ts";
import { compact, seconds } from "./render.ts";

/** ECS defaults: REPLICA max 200 / min 100 with the breaker off; DAEMON max 100 / min 0. */
export function deploymentConfigurationOf(strategy: "REPLICA" | "DAEMON", c: DeploymentConfiguration): DeploymentConfiguration {
  return {
    deploymentCircuitBreaker: c.deploymentCircuitBreaker ?? { enable: false, rollback: false },
    maximumPercent: c.maximumPercent ?? (strategy === "DAEMON" ? 100 : 200),
    minimumHealthyPercent: c.minimumHealthyPercent ?? (strategy === "DAEMON" ? 0 : 100),
    ...(c.alarms ? { alarms: c.alarms } : {}),
    ...(c.strategy ? { strategy: c.strategy } : {}),
  };
}

/**
 * A service as DescribeServices shows it. Counts are folded from the service's tasks at render
 * time: runningCount = tasks RUNNING, pendingCount = tasks PENDING, per service and per deployment.
 * Not counted: tasks the service has written off, stopped and replaced elsewhere because their
 * instance's agent is lost. Their last known status stays what the agent last reported
 * (DescribeTasks shows it) until the agent comes back and stops them; for a host gone for good,
 * deregistering its instance with force stops them (`stopOrphanedTasks`). A deployment's
 * failedTasks is the circuit breaker's count.
 */
export function renderService(
  agg: Agg<ServiceSnapshot>,
  model: ReadModel,
  now: number,
  include: ReadonlySet<string>,
  daemonDesired?: number,
) {
  const s = agg.snapshot.context;
  const tasks = serviceTaskViews(model, agg.subject);
  const { lost } = instanceSets(model, subjects.cluster(agg.region, s.cluster));
  const writtenOff = (t: ServiceTaskView) =>
    t.desiredStatus === "STOPPED" && t.instanceId !== undefined && lost.has(t.instanceId);
  const count = (dep: string | undefined, status: string) =>
    tasks.filter((t) => (dep === undefined || t.deploymentId === dep) && t.lastStatus === status && !writtenOff(t))
      .length;
  const desired = s.schedulingStrategy === "DAEMON" ? (daemonDesired ?? 0) : s.settings.desiredCount;
  const status = agg.snapshot.value === "NEW" ? "INACTIVE" : (agg.snapshot.value as string);
  const deployments = status === "INACTIVE" ? [] : s.deployments.map((d, i) => renderDeployment(d, i, desired, tasks, count, now));
  return compact({
    serviceArn: s.serviceArn,
    serviceName: s.serviceName,
    clusterArn: s.clusterArn,
    loadBalancers: s.settings.loadBalancers,
    serviceRegistries: s.settings.serviceRegistries,
    status,
    desiredCount: status === "ACTIVE" ? desired : 0,
    runningCount: count(undefined, "RUNNING"),
    pendingCount: count(undefined, "PENDING"),
    launchType: s.deployments[0]?.capacityProviderStrategy?.length ? undefined : (s.deployments[0]?.launchType ?? "EC2"),
    capacityProviderStrategy: s.deployments[0]?.capacityProviderStrategy?.length ? withStrategyDefaults(s.deployments[0].capacityProviderStrategy) : undefined,
    platformVersion: onFargate(s.deployments[0]) ? (s.deployments[0]?.platformVersion ?? "LATEST") : undefined,
    platformFamily: onFargate(s.deployments[0]) ? "Linux" : undefined,
    taskDefinition: s.deployments[0]?.taskDefinition,
    deploymentConfiguration: deploymentConfigurationOf(s.schedulingStrategy, s.settings.deploymentConfiguration),
    deployments,
    roleArn: s.roleArn,
    events: s.messages.map((m) => ({ id: m.id, createdAt: seconds(m.createdAt), message: m.message })),
    createdAt: seconds(s.createdAt),
    placementConstraints: s.settings.placementConstraints,
    placementStrategy: s.settings.placementStrategy,
    networkConfiguration: s.deployments[0]?.networkConfiguration,
    healthCheckGracePeriodSeconds: s.settings.healthCheckGracePeriodSeconds ?? 0,
    schedulingStrategy: s.schedulingStrategy,
    deploymentController: { type: s.deploymentController },
    tags: include.has("TAGS") ? s.tags : undefined,
    createdBy: s.createdBy,
    enableECSManagedTags: s.settings.enableECSManagedTags,
    propagateTags: s.settings.propagateTags,
    enableExecuteCommand: s.settings.enableExecuteCommand,
    availabilityZoneRebalancing: s.settings.availabilityZoneRebalancing,
    ...(status === "INACTIVE" ? {} : currentOf(s, tasks, desired)),
  });
}

/**
 * A deployment on Fargate, by launch type or by capacity providers: ECS names its platform's
 * version and family (Linux: Berth runs no other), and only for Fargate.
 */
export const onFargate = (d: Parameters<typeof deploymentLaunchType>[0]) => d !== undefined && deploymentLaunchType(d) === "FARGATE";

export const scopeOf = (svc: ServiceContext): Scope => {
  const p = parseArn(svc.serviceArn);
  return { region: p?.region ?? "", account: p?.account ?? "" };
};

type TaskViews = ReturnType<typeof serviceTaskViews>;

/**
 * A revision's task counts now: requested is the service's desired count for the PRIMARY
 * deployment, the tasks it still runs for an older one, 0 once it is gone.
 */
export function revisionSummary(svc: ServiceContext, revisionId: string, tasks: TaskViews, desired: number) {
  // Its tasks: those of every deployment running it (a rollback runs an earlier revision).
  const deployments = new Set([revisionId, ...svc.deployments.filter((d) => serviceRevisionOf(d) === revisionId).map((d) => d.id)]);
  const mine = tasks.filter((t) => deployments.has(t.deploymentId));
  const index = svc.deployments.findIndex((d) => serviceRevisionOf(d) === revisionId);
  const live = mine.filter((t) => t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED").length;
  return {
    arn: arns.serviceRevision(scopeOf(svc), svc.cluster, svc.serviceName, revisionId),
    requestedTaskCount: index === 0 ? desired : index > 0 ? live : 0,
    runningTaskCount: mine.filter((t) => t.lastStatus === "RUNNING").length,
    pendingTaskCount: mine.filter((t) => t.lastStatus === "PENDING").length,
  };
}

/** The service's currentServiceDeployment and currentServiceRevisions (DescribeServices). */
function currentOf(svc: ServiceContext, tasks: TaskViews, desired: number) {
  const latest = svc.history[0];
  if (!latest) return {};
  return {
    currentServiceDeployment: arns.serviceDeployment(scopeOf(svc), svc.cluster, svc.serviceName, latest.id),
    currentServiceRevisions: [...new Set(svc.deployments.map(serviceRevisionOf))].map((r) => revisionSummary(svc, r, tasks, desired)),
  };
}

function renderDeployment(
  d: Deployment,
  index: number,
  serviceDesired: number,
  tasks: ReturnType<typeof serviceTaskViews>,
  count: (dep: string | undefined, status: string) => number,
  now: number,
) {
  const live = tasks.filter((t) => t.deploymentId === d.id && t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED").length;
  return compact({
    id: d.id,
    status: index === 0 ? "PRIMARY" : "ACTIVE",
    taskDefinition: d.taskDefinition,
    desiredCount: index === 0 ? serviceDesired : live,
    pendingCount: count(d.id, "PENDING"),
    runningCount: count(d.id, "RUNNING"),
    failedTasks: failedTaskCount(d, tasks, now),
    createdAt: seconds(d.createdAt),
    updatedAt: seconds(d.updatedAt),
    capacityProviderStrategy: d.capacityProviderStrategy?.length ? withStrategyDefaults(d.capacityProviderStrategy) : undefined,
    launchType: d.capacityProviderStrategy?.length ? undefined : (d.launchType ?? "EC2"),
    platformVersion: onFargate(d) ? (d.platformVersion ?? "1.4.0") : undefined,
    platformFamily: onFargate(d) ? "Linux" : undefined,
    networkConfiguration: d.networkConfiguration,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
  });
}
