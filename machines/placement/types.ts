import type { InstanceStatus } from "../../events/instance.events.ts";
import type { PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";

/**
 * The inputs and outputs of placement. Plain data: the shell builds these from the read model,
 * the engine reads them and never writes to them.
 */

/** Where a task can run; an instance lists the kinds it offers, a task asks for one. */
export type CapacityKind = "EC2" | "FARGATE" | "EXTERNAL";

/** What placement knows about one container instance, as of the start of a placement call. */
export interface InstanceView {
  /** Container instance ARN; placement orders instances by it, so input order never matters. */
  arn: string;
  /** Container instance id (the ARN's last segment). */
  id: string;
  /** Only ACTIVE instances receive tasks; others are ignored (ECS: DRAINING takes no new tasks). */
  status: InstanceStatus;
  agentConnected: boolean;
  /** Built-in, capability and custom attributes; valueless capability attributes map to null. */
  attributes: Record<string, string | null>;
  ec2InstanceId?: string | undefined;
  agentVersion?: string | undefined;
  /** Registration time, epoch milliseconds. */
  registeredAt: number;
  /** ECS's runningTasksCount; a placement call adds the tasks it places to it. */
  runningTasksCount: number;
  remaining: {
    /** CPU units left (1024 per vCPU). */
    cpu: number;
    /** Memory left, MiB. */
    memory: number;
    /** TCP host ports in use or reserved (ECS's remainingResources PORTS grows as tasks bind). */
    ports: number[];
    /** UDP host ports in use or reserved. */
    portsUdp: number[];
  };
  /** Non-stopped tasks on this instance, counted per task group ("service:web", "family:api", …). */
  taskGroups: Record<string, number>;
  capacity: CapacityKind[];
}

/** What one task needs from an instance. */
export interface TaskDemand {
  /** CPU units the task reserves. */
  cpu: number;
  /** Memory the task reserves, MiB. */
  memory: number;
  /** Static TCP host ports (hostPort ≠ 0); dynamic and awsvpc ports take none. */
  ports: number[];
  /** Static UDP host ports. */
  portsUdp: number[];
  /** The task definition's requiresAttributes: the instance must have the name (and value, if given). */
  requiresAttributes: { name: string; value?: string | undefined }[];
  /** Task group: a service's tasks are "service:<name>"; spread and distinctInstance count it. */
  group: string;
  launchType: CapacityKind;
  /** Task definition constraints followed by the request's (all must hold). */
  constraints: PlacementConstraint[];
  /**
   * In priority order: the first ranks, later ones break its ties. Empty means random; services
   * pass ECS's default, spread on attribute:ecs.availability-zone.
   */
  strategies: PlacementStrategy[];
}

/** Many identical tasks, the common RunTask/service shape. */
export interface DemandBatch {
  demand: TaskDemand;
  count: number;
}

export interface PlaceOptions {
  /** Seeds the random strategy; the same seed and inputs give the same placements. */
  seed: number;
  /** Reported as the failure ARN when no instance could be considered at all. */
  clusterArn: string;
}

/**
 * ECS's failure reasons (RunTask `failures[].reason`). The two constraint texts are what ECS
 * returns verbatim ("The closest matching container-instance … encountered error
 * \"MemberOf placement constraint unsatisfied.\"").
 */
export type FailureReason =
  | "NO ACTIVE INSTANCES"
  | "AGENT"
  | "ATTRIBUTE"
  | "RESOURCE:CPU"
  | "RESOURCE:MEMORY"
  | "RESOURCE:PORTS"
  | "RESOURCE:PORTS_UDP"
  | "MemberOf placement constraint unsatisfied."
  | "DistinctInstance placement constraint unsatisfied.";

export interface PlacementFailure {
  /** The closest-matching instance's ARN, or the cluster ARN when there was none to consider. */
  arn: string;
  reason: FailureReason;
  /** Why, for people: which requirement, what the instance had. */
  detail?: string;
}

export type PlacementResult = { placed: { instanceArn: string; instanceId: string } } | { failed: PlacementFailure };
