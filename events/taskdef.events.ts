import { z } from "zod";
import { Millis, Tag } from "./shapes.ts";
import { TaskDefinitionSpec } from "./taskdef.shapes.ts";

/**
 * Events of one task-definition family (subject `berth.evt.<region>.taskdef.<family>`). Each
 * revision-level event names the revision it is about; the family itself has no events of its own:
 * it exists from its first registration and is ACTIVE while any revision is.
 */

const Revision = z.number().int().positive();

/**
 * A new revision. The ARN is decided once (from the request's region and account) and travels in
 * the event, so folding never needs a scope. `spec` is already validated and normalised exactly as
 * DescribeTaskDefinition shows it.
 */
export const TaskDefinitionRegistered = z.strictObject({
  type: z.literal("TaskDefinitionRegistered"),
  at: Millis,
  revision: Revision,
  taskDefinitionArn: z.string().min(1),
  spec: TaskDefinitionSpec,
  tags: z.array(Tag),
  registeredBy: z.string().optional(),
});
export type TaskDefinitionRegistered = z.infer<typeof TaskDefinitionRegistered>;

/** DeregisterTaskDefinition: ACTIVE → INACTIVE. */
export const TaskDefinitionDeregistered = z.strictObject({
  type: z.literal("TaskDefinitionDeregistered"),
  at: Millis,
  revision: Revision,
});
export type TaskDefinitionDeregistered = z.infer<typeof TaskDefinitionDeregistered>;

/** DeleteTaskDefinitions: INACTIVE → DELETE_IN_PROGRESS (purged once nothing references it). */
export const TaskDefinitionDeleteRequested = z.strictObject({
  type: z.literal("TaskDefinitionDeleteRequested"),
  at: Millis,
  revision: Revision,
});
export type TaskDefinitionDeleteRequested = z.infer<typeof TaskDefinitionDeleteRequested>;

/** TagResource / UntagResource on a revision ARN; `tags` is the complete list after the change. */
export const TaskDefinitionTagsChanged = z.strictObject({
  type: z.literal("TaskDefinitionTagsChanged"),
  at: Millis,
  revision: Revision,
  tags: z.array(Tag),
});
export type TaskDefinitionTagsChanged = z.infer<typeof TaskDefinitionTagsChanged>;

export const TaskDefinitionEvent = z.discriminatedUnion("type", [
  TaskDefinitionRegistered,
  TaskDefinitionDeregistered,
  TaskDefinitionDeleteRequested,
  TaskDefinitionTagsChanged,
]);
export type TaskDefinitionEvent = z.infer<typeof TaskDefinitionEvent>;
export type TaskDefinitionEventType = TaskDefinitionEvent["type"];
