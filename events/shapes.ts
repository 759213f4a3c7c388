import { z } from "zod";

/**
 * ECS structures shared by several event families, with ECS's member names and JSON types.
 * These describe what is stored; request validation (lengths, patterns, ranges) lives at the
 * API edge and in machines/<aggregate>/*.validate.ts.
 */

export const KeyValuePair = z.object({ name: z.string().optional(), value: z.string().optional() });
export type KeyValuePair = z.infer<typeof KeyValuePair>;

export const Tag = z.object({ key: z.string(), value: z.string() });
export type Tag = z.infer<typeof Tag>;

export const Attribute = z.object({
  name: z.string(),
  value: z.string().optional(),
  targetType: z.literal("container-instance").optional(),
  targetId: z.string().optional(),
});
export type Attribute = z.infer<typeof Attribute>;

export const Resource = z.object({
  name: z.string(),
  type: z.enum(["INTEGER", "DOUBLE", "LONG", "STRINGSET"]),
  doubleValue: z.number().optional(),
  longValue: z.number().int().optional(),
  integerValue: z.number().int().optional(),
  stringSetValue: z.array(z.string()).optional(),
});
export type Resource = z.infer<typeof Resource>;

export const NetworkBinding = z.object({
  bindIP: z.string().optional(),
  containerPort: z.number().int().optional(),
  hostPort: z.number().int().optional(),
  protocol: z.enum(["tcp", "udp"]).optional(),
  containerPortRange: z.string().optional(),
  hostPortRange: z.string().optional(),
});
export type NetworkBinding = z.infer<typeof NetworkBinding>;

export const NetworkInterface = z.object({
  attachmentId: z.string().optional(),
  privateIpv4Address: z.string().optional(),
  ipv6Address: z.string().optional(),
});
export type NetworkInterface = z.infer<typeof NetworkInterface>;

export const Attachment = z.object({
  id: z.string(),
  type: z.string(),
  status: z.string(),
  details: z.array(KeyValuePair),
});
export type Attachment = z.infer<typeof Attachment>;

export const LaunchType = z.enum(["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"]);
export type LaunchType = z.infer<typeof LaunchType>;

export const NetworkMode = z.enum(["bridge", "host", "awsvpc", "none"]);
export type NetworkMode = z.infer<typeof NetworkMode>;

export const PlacementConstraint = z.object({
  type: z.enum(["distinctInstance", "memberOf"]).optional(),
  expression: z.string().optional(),
});
export type PlacementConstraint = z.infer<typeof PlacementConstraint>;

export const PlacementStrategy = z.object({
  type: z.enum(["random", "spread", "binpack"]).optional(),
  field: z.string().optional(),
});
export type PlacementStrategy = z.infer<typeof PlacementStrategy>;

export const CapacityProviderStrategyItem = z.object({
  capacityProvider: z.string(),
  weight: z.number().int().optional(),
  base: z.number().int().optional(),
});
export type CapacityProviderStrategyItem = z.infer<typeof CapacityProviderStrategyItem>;

export const AwsVpcConfiguration = z.object({
  subnets: z.array(z.string()),
  securityGroups: z.array(z.string()).optional(),
  assignPublicIp: z.enum(["ENABLED", "DISABLED"]).optional(),
});
export const NetworkConfiguration = z.object({ awsvpcConfiguration: AwsVpcConfiguration.optional() });
export type NetworkConfiguration = z.infer<typeof NetworkConfiguration>;

export const ContainerOverride = z.object({
  name: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.array(KeyValuePair).optional(),
  environmentFiles: z.array(z.object({ value: z.string(), type: z.literal("s3") })).optional(),
  cpu: z.number().int().optional(),
  memory: z.number().int().optional(),
  memoryReservation: z.number().int().optional(),
  resourceRequirements: z.array(z.object({ value: z.string(), type: z.string() })).optional(),
});
export type ContainerOverride = z.infer<typeof ContainerOverride>;

export const TaskOverride = z.object({
  containerOverrides: z.array(ContainerOverride).optional(),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  executionRoleArn: z.string().optional(),
  taskRoleArn: z.string().optional(),
  ephemeralStorage: z.object({ sizeInGiB: z.number().int() }).optional(),
  inferenceAcceleratorOverrides: z
    .array(z.object({ deviceName: z.string().optional(), deviceType: z.string().optional() }))
    .optional(),
});
export type TaskOverride = z.infer<typeof TaskOverride>;

/** Epoch milliseconds. Events store time as integers; the API renders epoch seconds. */
export const Millis = z.number().int().nonnegative();
