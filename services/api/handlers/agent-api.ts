import { z } from "zod";
import type { ContainerObserved } from "../../../events/agent.ts";
import { isArn, parseArn } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { type Attachment, NetworkBinding } from "../../../events/shapes.ts";
import { decideTask, initialTask, type TaskCommand } from "../../../machines/task/task.decide.ts";
import { ENI_ATTACHMENT, heldEni } from "../../../machines/task/task.eni.ts";
import { taskArnOf } from "../../../machines/task/task.spec.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { invalid, parseInput, unwrap } from "../errors.ts";
import { activeCluster, instanceIdOf, taskIdOf } from "../resolve.ts";

/**
 * The ECS agent's own operations. DiscoverPollEndpoint answers with Berth's endpoint (Berth has
 * no separate ACS/TCS websocket endpoints: its agents talk to the control plane over NATS).
 * Submit*StateChange map onto the same task commands the agent's observations become
 * (ObserveContainer, ObserveTaskStopping, ObserveAttachment), so a state reported over HTTP is
 * decided exactly like one reported by a Berth agent: statuses only move forward, repeats change
 * nothing.
 */

/** What every Submit* call answers (ECS does not document the value). */
export const ACK = "ACK";

const ContainerStatus = z.enum(["PENDING", "RUNNING", "STOPPED"]);
const Seconds = z.number().nonnegative();
const millis = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1000));

const AttachmentChange = z.object({ attachmentArn: z.string(), status: z.string().min(1).max(64) });
const ContainerChange = z.object({
  containerName: z.string().optional(),
  imageDigest: z.string().optional(),
  runtimeId: z.string().optional(),
  exitCode: z.number().int().optional(),
  networkBindings: z.array(NetworkBinding).optional(),
  reason: z.string().max(1024).optional(),
  status: ContainerStatus.optional(),
});

const DiscoverPollEndpointInput = z.object({
  containerInstance: z.string().optional(),
  cluster: z.string().optional(),
});

export const DiscoverPollEndpoint: Handler = async (raw, ctx, s) => {
  const input = parseInput(DiscoverPollEndpointInput, raw);
  if (input.containerInstance !== undefined) {
    const cluster = activeCluster(input.cluster, ctx, s);
    if (!instanceIdOf(input.containerInstance, cluster.name))
      throw invalid("The container instance identifier is invalid.");
  }
  const endpoint = ctx.endpoint ?? "http://127.0.0.1:8417/";
  return { endpoint, telemetryEndpoint: endpoint, serviceConnectEndpoint: endpoint };
};

/** The task a Submit* call is about: its cluster comes from the long ARN or the `cluster` member. */
function taskOf(value: string | undefined, clusterValue: string | undefined, ctx: RequestContext, s: ApiServices) {
  if (!value) throw invalid("task is required.");
  const p = isArn(value) ? parseArn(value) : null;
  const cluster = activeCluster(
    clusterValue ?? (p?.kind === "task" && p.path.length === 2 ? p.path[0] : undefined),
    ctx,
    s,
  );
  const id = taskIdOf(value, cluster.name);
  if (!id) throw invalid("Task Identifier is invalid");
  const subject = subjects.task(ctx.region, cluster.name, id);
  const agg = s.model.tasks.get(subject);
  if (!agg) throw invalid("The referenced task was not found.");
  return { subject, taskArn: taskArnOf(agg.snapshot.context), cluster };
}

async function apply(subject: string, taskArn: string, command: TaskCommand, ctx: RequestContext, s: ApiServices) {
  await unwrap(
    s.bus.execute({
      subject,
      resource: taskArn,
      get: () => s.model.tasks.get(subject),
      initial: initialTask,
      decide: (state) => decideTask(command, state),
      meta: { correlationid: ctx.requestId },
    }),
  );
}

function observed(
  s: ApiServices,
  subject: string,
  c: z.infer<typeof ContainerChange> & { containerName: string; status: "PENDING" | "RUNNING" | "STOPPED" },
  at: number,
  pulls: { pullStartedAt?: number; pullStoppedAt?: number } = {},
): ContainerObserved {
  const t = s.model.tasks.get(subject)!.snapshot.context;
  return {
    type: "ContainerObserved",
    at,
    instanceId: t.instanceId ?? "",
    taskArn: taskArnOf(t),
    containerName: c.containerName,
    status: c.status,
    ...(c.runtimeId !== undefined ? { runtimeId: c.runtimeId } : {}),
    ...(c.imageDigest !== undefined ? { imageDigest: c.imageDigest } : {}),
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.networkBindings !== undefined ? { networkBindings: c.networkBindings } : {}),
    ...(pulls.pullStartedAt !== undefined ? { pullStartedAt: pulls.pullStartedAt } : {}),
    ...(pulls.pullStoppedAt !== undefined ? { pullStoppedAt: pulls.pullStoppedAt } : {}),
  };
}

function checkContainer(subject: string, name: string | undefined, s: ApiServices): string {
  if (!name) throw invalid("containerName is required.");
  if (!s.model.tasks.get(subject)?.snapshot.context.containers.some((c) => c.name === name))
    throw invalid(`The task has no container named ${name}.`);
  return name;
}

/** The id of an attachment ARN (`arn:…:attachment/<id>`) or a bare id. */
function attachmentId(value: string): string {
  const id = value.includes("/") ? (value.split("/").pop() as string) : value;
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw invalid(`${value} is not a valid attachment ARN.`);
  return id;
}

/**
 * The task's attachments with `changes` applied. An id the task does not have yet is its elastic
 * network interface under the id its agent knows it by: it takes the place of the interface
 * Berth announced at creation (still PRECREATED, its subnet kept), or is added. A PROVISIONING
 * task only takes the change that attaches it.
 */
function withAttachments(current: readonly Attachment[], changes: { id: string; status: string }[]): Attachment[] {
  const out = current.map((a) => ({ ...a }));
  for (const c of changes) {
    const known = out.find((a) => a.id === c.id);
    const announced = out.find((a) => a.type === ENI_ATTACHMENT && a.status === "PRECREATED");
    if (known) known.status = c.status;
    else if (announced) Object.assign(announced, { id: c.id, status: c.status });
    else out.push({ id: c.id, type: ENI_ATTACHMENT, status: c.status, details: [] });
  }
  return out;
}

async function changeAttachments(
  subject: string,
  changes: { id: string; status: string }[],
  ctx: RequestContext,
  s: ApiServices,
) {
  const agg = s.model.tasks.get(subject)!;
  if (agg.snapshot.value === "PROVISIONING" && !changes.some((c) => c.status === "ATTACHED")) return;
  const attachments = withAttachments(agg.snapshot.context.attachments, changes);
  await apply(subject, taskArnOf(agg.snapshot.context), { type: "ObserveAttachment", at: ctx.now, attachments }, ctx, s);
}

const SubmitContainerStateChangeInput = z.object({
  cluster: z.string().optional(),
  task: z.string().optional(),
  containerName: z.string().optional(),
  runtimeId: z.string().optional(),
  status: ContainerStatus.optional(),
  exitCode: z.number().int().optional(),
  reason: z.string().max(1024).optional(),
  networkBindings: z.array(NetworkBinding).optional(),
});

export const SubmitContainerStateChange: Handler = async (raw, ctx, s) => {
  const input = parseInput(SubmitContainerStateChangeInput, raw);
  const t = taskOf(input.task, input.cluster, ctx, s);
  const containerName = checkContainer(t.subject, input.containerName, s);
  if (!input.status) throw invalid("status is required.");
  const observation = observed(s, t.subject, { ...input, containerName, status: input.status }, ctx.now);
  await apply(t.subject, t.taskArn, { type: "ObserveContainer", at: ctx.now, observation }, ctx, s);
  return { acknowledgment: ACK };
};

const SubmitTaskStateChangeInput = z.object({
  cluster: z.string().optional(),
  task: z.string().optional(),
  status: z.string().optional(),
  reason: z.string().max(1024).optional(),
  containers: z.array(ContainerChange).optional(),
  attachments: z.array(AttachmentChange).optional(),
  managedAgents: z
    .array(
      z.object({
        containerName: z.string(),
        managedAgentName: z.literal("ExecuteCommandAgent"),
        status: z.string(),
        reason: z.string().optional(),
      }),
    )
    .optional(),
  pullStartedAt: Seconds.optional(),
  pullStoppedAt: Seconds.optional(),
  executionStoppedAt: Seconds.optional(),
});
/** The task statuses SubmitTaskStateChange acts on: a container status, or STOPPING. */
const ReportedTaskStatus = ContainerStatus.or(z.literal("STOPPING"));

export const SubmitTaskStateChange: Handler = async (raw, ctx, s) => {
  const input = parseInput(SubmitTaskStateChangeInput, raw);
  const status = input.status === undefined ? undefined : ReportedTaskStatus.safeParse(input.status);
  if (status && !status.success)
    throw invalid(`Invalid task status ${input.status}: use PENDING, RUNNING, STOPPING or STOPPED.`);
  const t = taskOf(input.task, input.cluster, ctx, s);
  const containers = (input.containers ?? []).map((c) => {
    const containerName = checkContainer(t.subject, c.containerName, s);
    if (!c.status) throw invalid(`status is required for container ${containerName}.`);
    return { ...c, containerName, status: c.status };
  });
  const pulls = { pullStartedAt: millis(input.pullStartedAt), pullStoppedAt: millis(input.pullStoppedAt) };

  if (input.attachments?.length)
    await changeAttachments(
      t.subject,
      input.attachments.map((a) => ({ id: attachmentId(a.attachmentArn), status: a.status })),
      ctx,
      s,
    );
  for (const c of containers)
    await apply(
      t.subject,
      t.taskArn,
      { type: "ObserveContainer", at: ctx.now, observation: observed(s, t.subject, c, ctx.now, pulls) },
      ctx,
      s,
    );

  // A task status speaks for the containers it does not list: RUNNING starts those still PENDING,
  // STOPPED stops every one not yet stopped (with the task's reason).
  const taskStatus = status?.success ? status.data : undefined;
  if (taskStatus === "STOPPING")
    await apply(t.subject, t.taskArn, { type: "ObserveTaskStopping", at: ctx.now }, ctx, s);
  if (taskStatus === "RUNNING" || taskStatus === "STOPPED") {
    const listed = new Set(containers.map((c) => c.containerName));
    const rest = s.model.tasks
      .get(t.subject)!
      .snapshot.context.containers.filter((c) => !listed.has(c.name))
      .filter((c) => (taskStatus === "RUNNING" ? c.lastStatus === "PENDING" : c.lastStatus !== "STOPPED"));
    for (const c of rest) {
      const change = {
        containerName: c.name,
        status: taskStatus,
        ...(taskStatus === "STOPPED" && input.reason ? { reason: input.reason } : {}),
      };
      await apply(
        t.subject,
        t.taskArn,
        { type: "ObserveContainer", at: ctx.now, observation: observed(s, t.subject, change, ctx.now, pulls) },
        ctx,
        s,
      );
    }
  }
  // An agent that reports its awsvpc task STOPPED leaves the interface to ECS, which lets it go.
  const reported = s.model.tasks.get(t.subject)!.snapshot;
  const held = heldEni(reported.context.attachments);
  if (taskStatus === "STOPPED" && reported.value === "DEPROVISIONING" && held)
    await changeAttachments(t.subject, [{ id: held.id, status: "DETACHED" }], ctx, s);
  return { acknowledgment: ACK };
};

const SubmitAttachmentStateChangesInput = z.object({
  cluster: z.string().optional(),
  attachments: z.array(AttachmentChange),
});

export const SubmitAttachmentStateChanges: Handler = async (raw, ctx, s) => {
  const input = parseInput(SubmitAttachmentStateChangesInput, raw);
  if (input.attachments.length === 0) throw invalid("attachments cannot be empty.");
  const cluster = activeCluster(input.cluster, ctx, s);
  // Find each attachment's task first, so an unknown attachment changes nothing.
  const byTask = new Map<string, { id: string; status: string }[]>();
  for (const a of input.attachments) {
    const id = attachmentId(a.attachmentArn);
    let owner: string | undefined;
    for (const subject of s.model.tasksByCluster.get(cluster.subject)?.values() ?? []) {
      if (s.model.tasks.get(subject)?.snapshot.context.attachments.some((x) => x.id === id)) {
        owner = subject;
        break;
      }
    }
    if (!owner) throw invalid(`The attachment ${a.attachmentArn} was not found in the cluster.`);
    byTask.set(owner, [...(byTask.get(owner) ?? []), { id, status: a.status }]);
  }
  for (const [subject, changes] of byTask) await changeAttachments(subject, changes, ctx, s);
  return { acknowledgment: ACK };
};
