import { z } from "zod";
import { SUBJECT_TOKEN } from "./names.ts";
import { Attribute, Millis, NetworkBinding, NetworkInterface, Resource } from "./shapes.ts";
import { DesiredStatus, HealthStatus, TaskRuntimeSpec } from "./task.events.ts";

/**
 * The agent protocol over NATS. Agents hold no authority: they publish observations (facts about
 * Docker) and receive directives; the control plane turns observations into task events.
 *
 *   agent ──request  berth.ctl.<r>.register ─► control plane   (reply: instance ARN)
 *   agent ──request  berth.ctl.<r>.sync     ─► control plane   (reply: desired tasks of the instance)
 *   agent ──publish  berth.obs.<r>.<id>     ─► BERTH_OBSERVATIONS (durable, deduplicated by msgID)
 *   agent ◄─consume  berth.dir.<r>.<id>     ── BERTH_DIRECTIVES   (durable consumer per agent)
 *   agent ──put      KV berth_heartbeats <r>.<id>
 *   agent ◄─request  berth.ctl.<r>.logs.<id> ── control plane  (reply: a container's output;
 *                                                              a cancel ends a followed log)
 *   agent ──publish  berth.ctl.<r>.logstream.<id>.<stream> ─► control plane (a followed log)
 */

// ── registration ─────────────────────────────────────────────────────────────────────────────

export const RegisterRequest = z.object({
  cluster: z.string(),
  /** Present when the agent re-registers the instance it registered before. */
  instanceId: z.string().optional(),
  hostname: z.string(),
  ec2InstanceId: z.string().optional(),
  totalResources: z.array(Resource),
  attributes: z.array(Attribute),
  versionInfo: z.object({
    agentVersion: z.string().optional(),
    agentHash: z.string().optional(),
    dockerVersion: z.string().optional(),
  }),
  /** Launch types this instance offers capacity for (an agent configured for FARGATE offers both). */
  capacity: z.array(z.enum(["EC2", "FARGATE", "EXTERNAL"])).default(["EC2"]),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const RegisterReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), containerInstanceArn: z.string(), instanceId: z.string() }),
  z.object({
    ok: z.literal(false),
    code: z.string(),
    message: z.string(),
    /** Asking again cannot succeed (the instance was deregistered): the agent stops trying. */
    final: z.boolean().optional(),
  }),
]);
export type RegisterReply = z.infer<typeof RegisterReply>;

export const SyncRequest = z.object({ cluster: z.string(), instanceId: z.string() });
export type SyncRequest = z.infer<typeof SyncRequest>;

export const DesiredTask = z.object({
  taskArn: z.string(),
  desiredStatus: DesiredStatus,
  stopTimeoutSeconds: z.number().int().optional(),
  spec: TaskRuntimeSpec,
});
export type DesiredTask = z.infer<typeof DesiredTask>;

export const SyncReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), tasks: z.array(DesiredTask) }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type SyncReply = z.infer<typeof SyncReply>;

// ── heartbeats ───────────────────────────────────────────────────────────────────────────────

export const Heartbeat = z.object({
  cluster: z.string(),
  instanceId: z.string(),
  at: Millis,
  /** Agent process start time; a change tells the control plane the agent restarted. */
  bootAt: Millis,
  /**
   * The agent's latest check of its container runtime: OK when Docker answered in time, IMPAIRED
   * when it did not. Absent from agents that do not check (simulated instances, older agents).
   */
  runtime: z.enum(["OK", "IMPAIRED"]).optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** How long without a heartbeat an agent counts as lost, unless the control plane is told otherwise. */
export const DEFAULT_LOST_AGENT_TIMEOUT_MS = 30_000;
/** How long an agent keeps a stopped task's containers by default: ECS's agent's 3 hours. */
export const DEFAULT_TASK_CLEANUP_WAIT_MS = 3 * 3_600_000;

// ── directives (control plane → agent) ───────────────────────────────────────────────────────

export const StartTaskDirective = z.object({
  type: z.literal("StartTask"),
  at: Millis,
  taskArn: z.string(),
  spec: TaskRuntimeSpec,
});
export const StopTaskDirective = z.object({
  type: z.literal("StopTask"),
  at: Millis,
  taskArn: z.string(),
  taskId: z.string(),
  reason: z.string(),
  /** Container names of the task, so an agent that never started it can still report each one STOPPED. */
  containers: z.array(z.string()).optional(),
});
/**
 * The agent's container instance was deregistered (sent while its heartbeats still come). As
 * ECS's agent does when told its instance is inactive, the agent stops for good: it stops what it
 * still runs of its tasks and exits, and it cannot register again as that instance.
 */
export const DeregisteredDirective = z.object({
  type: z.literal("Deregistered"),
  at: Millis,
  containerInstanceArn: z.string(),
});
export type DeregisteredDirective = z.infer<typeof DeregisteredDirective>;
export const Directive = z.discriminatedUnion("type", [StartTaskDirective, StopTaskDirective, DeregisteredDirective]);
export type Directive = z.infer<typeof Directive>;

// ── observations (agent → control plane) ─────────────────────────────────────────────────────

/**
 * The agent's view of one container. `status` is ECS's container status (the agent collapses
 * Docker's pulled/created into PENDING and its running/healthy into RUNNING).
 */
export const ContainerObserved = z.object({
  type: z.literal("ContainerObserved"),
  at: Millis,
  instanceId: z.string(),
  taskArn: z.string(),
  containerName: z.string(),
  status: z.enum(["PENDING", "RUNNING", "STOPPED"]),
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
export type ContainerObserved = z.infer<typeof ContainerObserved>;

/** The agent began stopping the task's containers (StopTask or an essential container exit). */
export const TaskStoppingObserved = z.object({
  type: z.literal("TaskStoppingObserved"),
  at: Millis,
  instanceId: z.string(),
  taskArn: z.string(),
});

/** Task-level network attachment (awsvpc): the per-task network and its private address. */
export const TaskAttachmentObserved = z.object({
  type: z.literal("TaskAttachmentObserved"),
  at: Millis,
  instanceId: z.string(),
  taskArn: z.string(),
  attachmentId: z.string(),
  status: z.enum(["ATTACHED", "DETACHED"]),
  privateIPv4Address: z.string().optional(),
  macAddress: z.string().optional(),
  networkName: z.string().optional(),
});

/** Per-task CPU and memory utilisation sampled from Docker stats. */
export const TaskStatsObserved = z.object({
  type: z.literal("TaskStatsObserved"),
  at: Millis,
  instanceId: z.string(),
  taskArn: z.string(),
  cpuPercent: z.number(),
  memoryBytes: z.number(),
  memoryLimitBytes: z.number().optional(),
});

export const Observation = z.discriminatedUnion("type", [
  ContainerObserved,
  TaskStoppingObserved,
  TaskAttachmentObserved,
  TaskStatsObserved,
]);
export type Observation = z.infer<typeof Observation>;

/** Docker labels the agent puts on every container it creates; reconcile finds its work by them. */
export const labels = {
  managed: "berth.managed",
  taskArn: "berth.task-arn",
  taskId: "berth.task-id",
  containerName: "berth.container-name",
  cluster: "berth.cluster",
  instanceId: "berth.instance-id",
} as const;

/** Docker container name for a task's container: deterministic, so a retried start finds it. */
export const containerName = (taskId: string, name: string) => `berth-${taskId}-${name}`;

// ── logs (control plane → agent, request/reply on subjects.logs) ─────────────────────────────

/**
 * Asks an agent for a task container's output. With `follow` and `streamId`, chunks stream to
 * `subjects.logStream(region, <the agent's instance id>, streamId)`: the requester names only the
 * last token, so the agent publishes nowhere outside its own instance's log streams.
 */
export const LogsRequest = z.object({
  taskArn: z.string(),
  /** Container name; defaults to the task's first container. */
  container: z.string().optional(),
  tail: z.number().int().nonnegative().optional(),
  follow: z.boolean().optional(),
  streamId: z.string().regex(SUBJECT_TOKEN).optional(),
  /** Longest a follow may last, ms (the agent caps it). */
  followMs: z.number().int().positive().optional(),
});
export type LogsRequest = z.infer<typeof LogsRequest>;

/**
 * Ends a followed log before its deadline (its reader went away), on the same subject as the
 * request. Fire and forget: an agent that misses it ends the follow at its deadline.
 */
export const LogsCancel = z.object({ cancel: z.string().regex(SUBJECT_TOKEN) });
export type LogsCancel = z.infer<typeof LogsCancel>;

export const LogChunk = z.object({ stream: z.enum(["stdout", "stderr"]), data: z.string() });
export type LogChunk = z.infer<typeof LogChunk>;

export const LogsReply = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), container: z.string(), chunks: z.array(LogChunk), following: z.boolean() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type LogsReply = z.infer<typeof LogsReply>;

/** What a followed log sends on its log stream subject: chunks, then one `end`. */
export const LogStreamMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("chunk"), container: z.string(), stream: z.enum(["stdout", "stderr"]), data: z.string() }),
  z.object({
    type: z.literal("end"),
    reason: z.enum(["stopped", "deadline", "cancelled", "error"]),
    message: z.string().optional(),
  }),
]);
export type LogStreamMessage = z.infer<typeof LogStreamMessage>;

// ── secrets (agent → control plane, request/reply on subjects.secrets) ───────────────────────

/**
 * Asks for the secret values a task placed on the asking instance refers to. The agent names the
 * task only: which secrets it gets is decided by the control plane from the task's own definition.
 * The reply is sealed to `publicKey` (an ephemeral X25519 key, SPKI DER in base64), so no other
 * NATS client can read the values in transit.
 */
export const SecretsRequest = z.object({
  cluster: z.string(),
  taskArn: z.string(),
  publicKey: z.string(),
});
export type SecretsRequest = z.infer<typeof SecretsRequest>;

/** A sealed box: AES-256-GCM under a key agreed from the two ephemeral X25519 keys. */
export const SealedBox = z.object({ iv: z.string(), ciphertext: z.string(), tag: z.string() });
export type SealedBox = z.infer<typeof SealedBox>;

export const SecretsReply = z.discriminatedUnion("ok", [
  /** `box` opens to a JSON object: valueFrom (or credentialsParameter) → value. */
  z.object({ ok: z.literal(true), publicKey: z.string(), box: SealedBox }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type SecretsReply = z.infer<typeof SecretsReply>;

/**
 * Every secret reference of a task, without duplicates: container `secrets`, log configuration
 * `secretOptions` and `repositoryCredentials.credentialsParameter`. Values are resolved once per
 * reference, however many containers use it.
 */
export function taskSecretRefs(spec: Pick<TaskRuntimeSpec, "containers">): string[] {
  const refs = new Set<string>();
  for (const c of spec.containers) {
    for (const s of c.secrets ?? []) refs.add(s.valueFrom);
    for (const s of c.logConfiguration?.secretOptions ?? []) refs.add(s.valueFrom);
    if (c.repositoryCredentials) refs.add(c.repositoryCredentials.credentialsParameter);
  }
  return [...refs];
}
