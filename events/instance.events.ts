import { z } from "zod";
import { Attribute, Millis, Resource, Tag } from "./shapes.ts";

export const InstanceStatus = z.enum([
  "REGISTERING",
  "REGISTRATION_FAILED",
  "ACTIVE",
  "DRAINING",
  "DEREGISTERING",
  "INACTIVE",
]);
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const VersionInfo = z.object({
  agentVersion: z.string().optional(),
  agentHash: z.string().optional(),
  dockerVersion: z.string().optional(),
});

export const Capacity = z.array(z.enum(["EC2", "FARGATE", "EXTERNAL"]));

export const InstanceRegistered = z.object({
  type: z.literal("InstanceRegistered"),
  at: Millis,
  containerInstanceArn: z.string(),
  instanceId: z.string(),
  cluster: z.string(),
  ec2InstanceId: z.string().optional(),
  hostname: z.string(),
  registeredResources: z.array(Resource),
  /** Attributes the agent reports (built-in and capability attributes). */
  attributes: z.array(Attribute),
  versionInfo: VersionInfo,
  capacity: Capacity,
  tags: z.array(Tag),
});

/** The agent registered again (restart, upgrade): resources, attributes and versions refreshed. */
export const InstanceReregistered = z.object({
  type: z.literal("InstanceReregistered"),
  at: Millis,
  registeredResources: z.array(Resource),
  attributes: z.array(Attribute),
  versionInfo: VersionInfo,
  capacity: Capacity,
});

export const InstanceAgentConnected = z.object({ type: z.literal("InstanceAgentConnected"), at: Millis });
export const InstanceAgentDisconnected = z.object({
  type: z.literal("InstanceAgentDisconnected"),
  at: Millis,
  /** Time of the last heartbeat seen; the deadline that fired is derived from it. */
  lastHeartbeatAt: Millis,
});

export const InstanceStatusChanged = z.object({
  type: z.literal("InstanceStatusChanged"),
  at: Millis,
  status: z.enum(["ACTIVE", "DRAINING"]),
});

export const InstanceDeregistered = z.object({
  type: z.literal("InstanceDeregistered"),
  at: Millis,
  force: z.boolean(),
});

/** Custom attributes set with PutAttributes (full value replaces any earlier one of that name). */
export const InstanceAttributesPut = z.object({
  type: z.literal("InstanceAttributesPut"),
  at: Millis,
  attributes: z.array(z.object({ name: z.string(), value: z.string().optional() })),
});
export const InstanceAttributesDeleted = z.object({
  type: z.literal("InstanceAttributesDeleted"),
  at: Millis,
  names: z.array(z.string()),
});

export const InstanceTagsChanged = z.object({ type: z.literal("InstanceTagsChanged"), at: Millis, tags: z.array(Tag) });

/**
 * The agent found its container runtime's health changed (ECS's CONTAINER_RUNTIME check): OK when
 * Docker answers, IMPAIRED when it does not. Recorded on a change only, from its heartbeats.
 */
export const InstanceRuntimeHealthChanged = z.object({
  type: z.literal("InstanceRuntimeHealthChanged"),
  at: Millis,
  status: z.enum(["OK", "IMPAIRED"]),
});

export const InstanceEvent = z.discriminatedUnion("type", [
  InstanceRegistered,
  InstanceReregistered,
  InstanceAgentConnected,
  InstanceAgentDisconnected,
  InstanceStatusChanged,
  InstanceDeregistered,
  InstanceAttributesPut,
  InstanceAttributesDeleted,
  InstanceTagsChanged,
  InstanceRuntimeHealthChanged,
]);
export type InstanceEvent = z.infer<typeof InstanceEvent>;
export type InstanceRegistered = z.infer<typeof InstanceRegistered>;
