import { z } from "zod";
import {
  Attachment,
  LaunchType,
  Millis,
  NetworkBinding,
  NetworkInterface,
  NetworkMode,
  PlacementConstraint,
  Tag,
  TaskOverride,
} from "./shapes.ts";
import { ContainerDefinition, Volume } from "./taskdef.shapes.ts";

/**
 * Task statuses in ECS's order (task-lifecycle). A task's lastStatus only ever moves to the right;
 * a task that fails before RUNNING goes straight to STOPPED.
 *
 *   PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
 */
export const TASK_STATUSES = [
  "PROVISIONING",
  "PENDING",
  "ACTIVATING",
  "RUNNING",
  "DEACTIVATING",
  "STOPPING",
  "DEPROVISIONING",
  "STOPPED",
] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const DesiredStatus = z.enum(["RUNNING", "STOPPED"]);
export type DesiredStatus = z.infer<typeof DesiredStatus>;

/** Container statuses as ECS reports them to the API; ordered. */
export const CONTAINER_STATUSES = ["PENDING", "RUNNING", "STOPPED"] as const;
export const ContainerStatus = z.enum(CONTAINER_STATUSES);
export type ContainerStatus = z.infer<typeof ContainerStatus>;

export const HealthStatus = z.enum(["HEALTHY", "UNHEALTHY", "UNKNOWN"]);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const StopCode = z.enum([
  "TaskFailedToStart",
  "EssentialContainerExited",
  "UserInitiated",
  "ServiceSchedulerInitiated",
  "SpotInterruption",
  "TerminationNotice",
  "InfrastructureHealth",
]);
export type StopCode = z.infer<typeof StopCode>;

/**
 * Everything an agent needs to run the task, resolved at creation: the task definition's
 * container definitions with the run's overrides applied. A task is self-contained: deregistering
 * its task definition later changes nothing about it.
 */
export const TaskRuntimeSpec = z.object({
  taskArn: z.string(),
  taskId: z.string(),
  clusterArn: z.string(),
  cluster: z.string(),
  taskDefinitionArn: z.string(),
  family: z.string(),
  revision: z.number().int(),
  launchType: LaunchType,
  networkMode: NetworkMode,
  cpu: z.string().optional(),
  memory: z.string().optional(),
  pidMode: z.enum(["host", "task"]).optional(),
  ipcMode: z.enum(["host", "task", "none"]).optional(),
  volumes: z.array(Volume),
  containers: z.array(ContainerDefinition),
});
export type TaskRuntimeSpec = z.infer<typeof TaskRuntimeSpec>;
/** A runtime spec without the task's own identity: what tasks of one definition, cluster and overrides share. */
export type TaskSpec = Omit<TaskRuntimeSpec, "taskArn" | "taskId">;

/** What a placed task holds on its instance until it stops. */
export const Reservation = z.object({
  cpu: z.number().int().nonnegative(),
  memory: z.number().int().nonnegative(),
  ports: z.array(z.number().int()),
  portsUdp: z.array(z.number().int()),
});
export type Reservation = z.infer<typeof Reservation>;

export const TaskCreated = z.object({
  type: z.literal("TaskCreated"),
  at: Millis,
  taskArn: z.string(),
  containerInstanceArn: z.string().optional(),
  instanceId: z.string().optional(),
  group: z.string(),
  startedBy: z.string().optional(),
  overrides: TaskOverride,
  tags: z.array(Tag),
  clientToken: z.string().optional(),
  capacityProviderName: z.string().optional(),
  availabilityZone: z.string().optional(),
  platformVersion: z.string().optional(),
  /** An awsvpc task's subnet, of those its network configuration names, which its interface is in. */
  subnetId: z.string().optional(),
  enableExecuteCommand: z.boolean(),
  placementConstraints: z.array(PlacementConstraint).optional(),
  reservation: Reservation,
  /** One entry per container, in definition order; containerArn ids are minted at creation. */
  containers: z.array(z.object({ name: z.string(), containerArn: z.string() })),
  spec: TaskRuntimeSpec,
  /** awsvpc tasks start in PROVISIONING, all others in PENDING. */
  initialStatus: z.enum(["PROVISIONING", "PENDING"]),
});

export const TaskContainerChanged = z.object({
  type: z.literal("TaskContainerChanged"),
  at: Millis,
  name: z.string(),
  lastStatus: ContainerStatus,
  runtimeId: z.string().optional(),
  imageDigest: z.string().optional(),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
  networkBindings: z.array(NetworkBinding).optional(),
  networkInterfaces: z.array(NetworkInterface).optional(),
  healthStatus: HealthStatus.optional(),
  pullStartedAt: Millis.optional(),
  pullStoppedAt: Millis.optional(),
});

export const TaskAttachmentsChanged = z.object({
  type: z.literal("TaskAttachmentsChanged"),
  at: Millis,
  attachments: z.array(Attachment),
});

export const TaskStarted = z.object({ type: z.literal("TaskStarted"), at: Millis });

export const TaskHealthChanged = z.object({
  type: z.literal("TaskHealthChanged"),
  at: Millis,
  healthStatus: HealthStatus,
});

export const TaskStopRequested = z.object({
  type: z.literal("TaskStopRequested"),
  at: Millis,
  stopCode: StopCode,
  reason: z.string(),
});

export const TaskStopping = z.object({ type: z.literal("TaskStopping"), at: Millis });

/**
 * An awsvpc task's containers have all stopped while its network interface is still attached:
 * the task waits in DEPROVISIONING for the interface to be let go (ECS detaches and deletes it
 * there), then stops.
 */
export const TaskDeprovisioning = z.object({ type: z.literal("TaskDeprovisioning"), at: Millis });

export const TaskStopped = z.object({
  type: z.literal("TaskStopped"),
  at: Millis,
  /** Set when the task stopped without a prior stop request (e.g. it never started). */
  stopCode: StopCode.optional(),
  reason: z.string().optional(),
  executionStoppedAt: Millis.optional(),
});

export const TaskTagsChanged = z.object({
  type: z.literal("TaskTagsChanged"),
  at: Millis,
  tags: z.array(Tag),
});

/**
 * UpdateTaskProtection (service tasks): scale-in protection on or off. `expiresAt` is when it
 * lapses; from then on the task reads as unprotected without another event (a deadline is a fact).
 */
export const TaskProtectionChanged = z.object({
  type: z.literal("TaskProtectionChanged"),
  at: Millis,
  protectionEnabled: z.boolean(),
  expiresAt: Millis.optional(),
});

export const TaskEvent = z.discriminatedUnion("type", [
  TaskCreated,
  TaskContainerChanged,
  TaskAttachmentsChanged,
  TaskStarted,
  TaskHealthChanged,
  TaskStopRequested,
  TaskStopping,
  TaskDeprovisioning,
  TaskStopped,
  TaskTagsChanged,
  TaskProtectionChanged,
]);
export type TaskEvent = z.infer<typeof TaskEvent>;
export type TaskCreated = z.infer<typeof TaskCreated>;
export type TaskContainerChanged = z.infer<typeof TaskContainerChanged>;
