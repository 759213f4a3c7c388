import { z } from "zod";
import {
  CapacityProviderStrategyItem,
  LaunchType,
  Millis,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
  Tag,
} from "./shapes.ts";

export const DeploymentCircuitBreaker = z.object({
  enable: z.boolean(),
  rollback: z.boolean(),
  resetOnHealthyTask: z.boolean().optional(),
  thresholdConfiguration: z
    .object({ type: z.enum(["COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT"]), value: z.number().int() })
    .optional(),
});

export const DeploymentConfiguration = z.object({
  deploymentCircuitBreaker: DeploymentCircuitBreaker.optional(),
  maximumPercent: z.number().int().optional(),
  minimumHealthyPercent: z.number().int().optional(),
  alarms: z.object({ alarmNames: z.array(z.string()), enable: z.boolean(), rollback: z.boolean() }).optional(),
  strategy: z.enum(["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"]).optional(),
  bakeTimeInMinutes: z.number().int().optional(),
});
export type DeploymentConfiguration = z.infer<typeof DeploymentConfiguration>;

export const LoadBalancer = z.looseObject({
  targetGroupArn: z.string().optional(),
  loadBalancerName: z.string().optional(),
  containerName: z.string().optional(),
  containerPort: z.number().int().optional(),
});

export const ServiceRegistry = z.looseObject({ registryArn: z.string().optional() });

/** What a deployment runs: the task definition and the settings that start a new deployment when changed. */
export const DeploymentSpec = z.object({
  id: z.string(),
  taskDefinition: z.string(),
  launchType: LaunchType.optional(),
  capacityProviderStrategy: z.array(CapacityProviderStrategyItem).optional(),
  platformVersion: z.string().optional(),
  networkConfiguration: NetworkConfiguration.optional(),
  /** Set when this deployment rolls back another (the circuit breaker's, or StopServiceDeployment's). */
  rollbackOf: z.string().optional(),
  /**
   * The deployment whose service revision this one runs, when not its own: a rollback runs the
   * revision it rolls back to (ECS makes no new revision for a rollback).
   */
  revision: z.string().optional(),
});
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;

/** Settings that apply to the service as a whole (they do not start a deployment). */
export const ServiceSettings = z.object({
  desiredCount: z.number().int().nonnegative(),
  deploymentConfiguration: DeploymentConfiguration,
  placementConstraints: z.array(PlacementConstraint),
  placementStrategy: z.array(PlacementStrategy),
  healthCheckGracePeriodSeconds: z.number().int().optional(),
  enableECSManagedTags: z.boolean(),
  propagateTags: z.enum(["TASK_DEFINITION", "SERVICE", "NONE"]),
  enableExecuteCommand: z.boolean(),
  availabilityZoneRebalancing: z.enum(["ENABLED", "DISABLED"]).optional(),
  loadBalancers: z.array(LoadBalancer),
  serviceRegistries: z.array(ServiceRegistry),
});
export type ServiceSettings = z.infer<typeof ServiceSettings>;

export const ServiceCreated = z.object({
  type: z.literal("ServiceCreated"),
  at: Millis,
  serviceArn: z.string(),
  serviceName: z.string(),
  clusterArn: z.string(),
  cluster: z.string(),
  schedulingStrategy: z.enum(["REPLICA", "DAEMON"]),
  deploymentController: z.enum(["ECS", "CODE_DEPLOY", "EXTERNAL"]),
  roleArn: z.string().optional(),
  createdBy: z.string().optional(),
  clientToken: z.string().optional(),
  settings: ServiceSettings,
  deployment: DeploymentSpec,
  tags: z.array(Tag),
});
export type ServiceCreated = z.infer<typeof ServiceCreated>;

export const ServiceSettingsChanged = z.object({
  type: z.literal("ServiceSettingsChanged"),
  at: Millis,
  settings: ServiceSettings.partial(),
});

/** A new PRIMARY deployment (UpdateService with a new task definition, forceNewDeployment, rollback). */
export const DeploymentStarted = z.object({
  type: z.literal("DeploymentStarted"),
  at: Millis,
  deployment: DeploymentSpec,
  reason: z.string().optional(),
  /**
   * Service settings the same UpdateService changed, applied before the deployment starts (its
   * service deployment records the deployment configuration they set): one event, so that the
   * update is stored whole or not at all. (Logs written before hold a ServiceSettingsChanged first.)
   */
  settings: ServiceSettings.partial().optional(),
});

export const RolloutState = z.enum(["IN_PROGRESS", "COMPLETED", "FAILED"]);
export type RolloutState = z.infer<typeof RolloutState>;

export const DeploymentRolloutChanged = z.object({
  type: z.literal("DeploymentRolloutChanged"),
  at: Millis,
  deploymentId: z.string(),
  rolloutState: RolloutState,
  reason: z.string(),
  /**
   * A FAILED rollout that is rolled back (the circuit breaker with rollback, StopServiceDeployment):
   * the rollback deployment, started by this same event, so that a failure and its rollback are
   * stored together or not at all. (Logs written before carry it as a DeploymentStarted after.)
   */
  rollback: DeploymentSpec.optional(),
});

/** A deployment whose tasks are all gone and that is no longer PRIMARY leaves the array. */
export const DeploymentRetired = z.object({ type: z.literal("DeploymentRetired"), at: Millis, deploymentId: z.string() });

/** A service event message as DescribeServices shows it ("(service x) has reached a steady state."). */
export const ServiceEventRecorded = z.object({
  type: z.literal("ServiceEventRecorded"),
  at: Millis,
  id: z.string(),
  message: z.string(),
  /** Messages with the same key replace each other's dedup window (ECS suppresses repeats). */
  key: z.string(),
  /** A placement failure's reason as ECS names it (`RESOURCE:CPU`, `AGENT`, …), for the service action event. */
  reason: z.string().optional(),
});

/**
 * The scheduler placed tasks for a deployment: written on the service's subject with its expected
 * sequence BEFORE the tasks are created, so a former leader whose lease is gone cannot place
 * (its append conflicts), and a crash between this and the tasks' creation is repaired by
 * creating exactly these tasks (same ids) on the next reconcile.
 */
export const ServiceTasksPlaced = z.object({
  type: z.literal("ServiceTasksPlaced"),
  at: Millis,
  deploymentId: z.string(),
  tasks: z.array(z.object({ taskId: z.string(), instanceId: z.string(), instanceArn: z.string(), availabilityZone: z.string().optional() })),
});

export const ServiceDeleted = z.object({ type: z.literal("ServiceDeleted"), at: Millis, force: z.boolean() });
export const ServiceDrained = z.object({ type: z.literal("ServiceDrained"), at: Millis });
export const ServiceTagsChanged = z.object({ type: z.literal("ServiceTagsChanged"), at: Millis, tags: z.array(Tag) });

export const ServiceEvent = z.discriminatedUnion("type", [
  ServiceCreated,
  ServiceSettingsChanged,
  DeploymentStarted,
  DeploymentRolloutChanged,
  DeploymentRetired,
  ServiceEventRecorded,
  ServiceTasksPlaced,
  ServiceDeleted,
  ServiceDrained,
  ServiceTagsChanged,
]);
export type ServiceEvent = z.infer<typeof ServiceEvent>;
