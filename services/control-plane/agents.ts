import type { JsMsg } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import {
  type DesiredTask,
  type Directive,
  Heartbeat,
  Observation,
  type RegisterReply,
  RegisterRequest,
  type SyncReply,
  SyncRequest,
} from "../../events/agent.ts";
import { arns, parseArn } from "../../events/arns.ts";
import type { InstanceRegistered } from "../../events/instance.events.ts";
import { instanceOfControlSubject, regionOfControlSubject, subjects } from "../../events/names.ts";
import type { Tag } from "../../events/shapes.ts";
import { decideCluster, initialCluster } from "../../machines/cluster/cluster.decide.ts";
import { decideInstance, type InstanceCommand, type InstanceSnapshot, initialInstance } from "../../machines/instance/instance.decide.ts";
import { decideTask, initialTask, type TaskCommand } from "../../machines/task/task.decide.ts";
import { reportedEni } from "../../machines/task/task.eni.ts";
import { runtimeSpecOf, taskArnOf } from "../../machines/task/task.spec.ts";
import type { Ids } from "../api/context.ts";
import type { JetStreamPublisher } from "../store/js-publisher.ts";
import type { CommandBus } from "./commands.ts";
import type { ReadModel } from "./read-model.ts";

/** How long a directive waits for its stream's ack (nats.js's default for a JetStream publish). */
const DIRECTIVE_TIMEOUT_MS = 5_000;
/** Lost-agent facts recorded at once by a sweep. */
const SWEEP_CONCURRENCY = 32;

export interface AgentSideOptions {
  nc: NatsConnection;
  /** Stored publishes (directives go to the agents' stream). */
  publisher: JetStreamPublisher;
  model: ReadModel;
  bus: CommandBus;
  log: Logger;
  account: string;
  clock: () => number;
  ids: Ids;
}

/**
 * The control plane's side of the agent protocol (see events/agent.ts): registration and sync
 * requests, turning observations into task commands, and heartbeats into connectivity facts.
 */
export class AgentGateway {
  private subs: Subscription[] = [];
  /** A sweep is under way: one that starts meanwhile does nothing (the next interval looks again). */
  private sweeping = false;
  /** Deregistered instances whose still-running agent this control plane has told so. */
  private readonly toldDeregistered = new Set<string>();

  constructor(private readonly o: AgentSideOptions) {}

  start() {
    const { nc } = this.o;
    this.subs.push(
      nc.subscribe(subjects.registerAnyRegion, {
        queue: "berth-control-plane",
        callback: (_e, m) =>
          void this.reply(m, async () =>
            sameInstance(m.subject, m.json()) ? this.register(regionOfControlSubject(m.subject), m.json()) : mismatch(),
          ),
      }),
      nc.subscribe(subjects.syncAnyRegion, {
        queue: "berth-control-plane",
        callback: (_e, m) =>
          void this.reply(m, async () =>
            sameInstance(m.subject, m.json()) ? this.sync(regionOfControlSubject(m.subject), m.json()) : mismatch(),
          ),
      }),
    );
  }

  stop() {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }

  private async reply(m: { respond: (data: string) => boolean; subject: string }, fn: () => Promise<unknown>) {
    try {
      m.respond(JSON.stringify(await fn()));
    } catch (err) {
      this.o.log.error({ err, subject: m.subject }, "agent request failed");
      m.respond(JSON.stringify({ ok: false, code: "ServerException", message: (err as Error).message }));
    }
  }

  /** Registers (or re-registers) a host. The `default` cluster is created on first use, as ECS's agent does. */
  async register(region: string, body: unknown): Promise<RegisterReply> {
    const parsed = RegisterRequest.safeParse(body);
    if (!parsed.success) return { ok: false, code: "InvalidParameterException", message: parsed.error.message };
    return registerInstance(this.o, region, parsed.data);
  }

  /** Every task placed on the instance and not yet STOPPED, with what the agent must do about it. */
  sync(region: string, body: unknown): SyncReply {
    const parsed = SyncRequest.safeParse(body);
    if (!parsed.success) return { ok: false, code: "InvalidParameterException", message: parsed.error.message };
    const subject = subjects.instance(region, parsed.data.cluster, parsed.data.instanceId);
    const tasks: DesiredTask[] = [];
    for (const t of this.o.model.liveTasksByInstance.get(subject) ?? []) {
      const ctx = this.o.model.tasks.get(t)?.snapshot.context;
      if (ctx) tasks.push({ taskArn: taskArnOf(ctx), desiredStatus: ctx.desiredStatus, spec: runtimeSpecOf(ctx) });
    }
    return { ok: true, tasks };
  }

  /** One observation → one task command. Returns false when the message should be retried later. */
  async observe(m: JsMsg): Promise<"ack" | "retry" | "drop"> {
    let obs: Observation;
    try {
      obs = Observation.parse(m.json());
    } catch (err) {
      this.o.log.warn({ err, seq: m.seq }, "undecodable observation dropped");
      return "drop";
    }
    const arn = parseArn(obs.taskArn);
    if (arn?.kind !== "task" || arn.path.length !== 2) return "drop";
    const [cluster, taskId] = arn.path as [string, string];
    const subject = subjects.task(arn.region, cluster, taskId);
    const task = this.o.model.tasks.get(subject);
    if (!task) {
      this.o.log.warn({ taskArn: obs.taskArn }, "observation for an unknown task dropped");
      return "drop";
    }
    const at = obs.at;
    let command: TaskCommand;
    switch (obs.type) {
      case "ContainerObserved":
        command = { type: "ObserveContainer", at, observation: obs };
        break;
      case "TaskStoppingObserved":
        command = { type: "ObserveTaskStopping", at };
        break;
      case "TaskAttachmentObserved":
        command = {
          type: "ObserveAttachment",
          at,
          attachments: [
            reportedEni({
              attachmentId: obs.attachmentId,
              status: obs.status,
              subnetId: task.snapshot.context.subnetId,
              region: arn.region,
              macAddress: obs.macAddress,
              privateIPv4Address: obs.privateIPv4Address,
            }),
          ],
        };
        break;
      case "TaskStatsObserved":
        return "ack"; // utilisation is not part of the task aggregate; metrics read it from the subject
      default:
        return "drop";
    }
    const r = await this.o.bus.execute({
      subject,
      resource: obs.taskArn,
      get: () => this.o.model.tasks.get(subject),
      initial: initialTask,
      decide: (s) => decideTask(command, s),
    });
    if (!r.ok) this.o.log.debug({ rejection: r.rejection, taskArn: obs.taskArn }, "observation rejected");
    return "ack";
  }

  /**
   * A heartbeat landed in KV: record a reconnection if the instance was marked disconnected, and
   * a change of the container runtime's health the agent checked. The agent of a deregistered
   * instance that still beats is told it was deregistered (once per control plane; the msgID
   * makes the copies of several control planes one directive), and stops. Only when `beating`: a
   * later beat than one this process saw before. The bucket keeps an instance's last heartbeat for
   * a day, so the first value a starting control plane reads may be from an agent long gone, and
   * a directive to it would wait in the stream for ever.
   */
  async heartbeat(region: string, value: unknown, beating: boolean): Promise<void> {
    const hb = Heartbeat.safeParse(value);
    if (!hb.success) return;
    const subject = subjects.instance(region, hb.data.cluster, hb.data.instanceId);
    const agg = this.o.model.instances.get(subject);
    if (agg?.snapshot.value === "INACTIVE") {
      if (beating) await this.tellDeregistered(region, agg.snapshot.context, subject);
      return;
    }
    if (!agg) return;
    const { runtime, at } = hb.data;
    const commands: InstanceCommand[] = [];
    if (!agg.snapshot.context.agentConnected) commands.push({ type: "Heartbeat", at });
    if (runtime && agg.snapshot.context.runtimeHealth?.status !== runtime)
      commands.push({ type: "ObserveRuntimeHealth", at, status: runtime });
    for (const command of commands)
      await this.o.bus.execute({
        subject,
        resource: agg.snapshot.context.containerInstanceArn,
        get: () => this.o.model.instances.get(subject),
        initial: initialInstance,
        decide: (s) => decideInstance(command, s),
      });
  }

  /**
   * Marks instances whose last heartbeat is older than the timeout as disconnected. The deadline
   * is derived from the heartbeat time stored in KV (or the last connectivity fact), never from a
   * timer kept only in memory, so a restarted control plane reaches the same verdict.
   *
   * Every lost instance is taken out of placement at once (`views.markLost`), before its fact is
   * recorded: when a whole fleet goes (a rack, a simulation stopped), recording thousands of facts
   * takes seconds, and the replacements of the first instances' tasks must not land on the others.
   * The facts are then recorded a bounded number at a time.
   *
   * It also stops the tasks still held by an instance deregistered with force (`stopOrphanedTasks`):
   * DeregisterContainerInstance does that itself, so they are left only when it failed part way.
   */
  async sweepLostAgents(lastHeartbeat: (region: string, instanceId: string) => number | undefined, timeoutMs: number) {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = this.o.clock();
      const lost: { subject: string; cluster: string; arn: string; last: number }[] = [];
      const orphaning: string[] = [];
      for (const agg of this.o.model.instances.values()) {
        const i = agg.snapshot.context;
        if (agg.snapshot.value === "INACTIVE" && this.o.model.liveTasksByInstance.get(agg.subject)?.size)
          orphaning.push(agg.subject);
        if (!i.agentConnected || (agg.snapshot.value !== "ACTIVE" && agg.snapshot.value !== "DRAINING")) continue;
        const last = Math.max(lastHeartbeat(agg.region, i.instanceId) ?? 0, i.lastHeartbeatAt ?? 0, i.registeredAt);
        if (now - last <= timeoutMs) continue;
        this.o.log.warn({ instanceId: i.instanceId, lastHeartbeatAt: last }, "agent lost: no heartbeat within the timeout");
        const cluster = subjects.cluster(agg.region, i.cluster);
        this.o.model.views.markLost(cluster, agg.subject);
        lost.push({ subject: agg.subject, cluster, arn: i.containerInstanceArn, last });
      }
      let next = 0;
      const worker = async () => {
        for (let k = next++; k < lost.length; k = next++) {
          const { subject, cluster, arn, last } = lost[k] as (typeof lost)[number];
          try {
            await this.o.bus.execute({
              subject,
              resource: arn,
              get: () => this.o.model.instances.get(subject),
              initial: initialInstance,
              decide: (s) => decideInstance({ type: "MarkDisconnected", at: now, lastHeartbeatAt: last }, s),
            });
          } catch (err) {
            // Not recorded: placeable again as its aggregate says, until the next sweep finds it.
            this.o.model.views.unmarkLost(cluster, subject);
            this.o.log.warn({ err, instance: arn }, "lost agent not recorded; the next sweep tries again");
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, lost.length) }, worker));
      for (const subject of orphaning) await stopOrphanedTasks(this.o, subject);
    } finally {
      this.sweeping = false;
    }
  }

  /** When the directive is not stored, the next heartbeat tries again. */
  private async tellDeregistered(region: string, i: InstanceSnapshot["context"], subject: string): Promise<void> {
    if (this.toldDeregistered.has(subject)) return;
    this.toldDeregistered.add(subject);
    const directive: Directive = { type: "Deregistered", at: this.o.clock(), containerInstanceArn: i.containerInstanceArn };
    try {
      await this.direct(region, i.instanceId, directive, `${i.instanceId}:deregistered`);
      this.o.log.info({ instance: i.containerInstanceArn }, "the agent of a deregistered instance still runs: told to stop");
    } catch (err) {
      this.toldDeregistered.delete(subject);
      this.o.log.warn({ err, instance: i.containerInstanceArn }, "deregistered instance's agent not told; the next heartbeat tries again");
    }
  }

  /** Sends a directive to the agent of the task's instance; the msgID makes a repeat a no-op. */
  async direct(region: string, instanceId: string, directive: Directive, msgID: string): Promise<void> {
    await this.o.publisher.publish(subjects.directives(region, instanceId), JSON.stringify(directive), {
      msgID,
      timeoutMs: DIRECTIVE_TIMEOUT_MS,
    });
  }
}

/** The stopped reason of the tasks of a container instance deregistered with force. */
export const ORPHANED_REASON = "Container instance deregistered with force: the task was orphaned";

/**
 * Stops, in the log, every task still placed on a container instance deregistered with force
 * (`StopOrphaned`: as ECS does, containers and all). DeregisterContainerInstance calls it once
 * the deregistration is recorded; the lost-agent sweep calls it for any INACTIVE instance that
 * still holds tasks, so a control plane that failed in between finishes the job. A task whose
 * stop cannot be recorded now is logged and left to the next sweep.
 */
export async function stopOrphanedTasks(
  d: Pick<AgentSideOptions, "model" | "bus" | "log" | "clock">,
  instanceSubject: string,
): Promise<void> {
  for (const subject of [...(d.model.liveTasksByInstance.get(instanceSubject) ?? [])]) {
    const agg = d.model.tasks.get(subject);
    if (!agg) continue;
    const taskArn = taskArnOf(agg.snapshot.context);
    try {
      await d.bus.execute({
        subject,
        resource: taskArn,
        get: () => d.model.tasks.get(subject),
        initial: initialTask,
        decide: (s) => decideTask({ type: "StopOrphaned", at: d.clock(), reason: ORPHANED_REASON }, s),
      });
    } catch (err) {
      d.log.warn({ err, taskArn }, "orphaned task's stop not recorded; the next sweep tries again");
    }
  }
}

/** What registering a host needs (the agent protocol and RegisterContainerInstance both use it). */
export type RegistrationDeps = Pick<AgentSideOptions, "model" | "bus" | "clock" | "account" | "ids">;

/**
 * Registers a host, or re-registers the live instance `req.instanceId` names (resources,
 * attributes and versions refreshed). `tags` apply to a new registration only.
 */
export async function registerInstance(
  d: RegistrationDeps,
  region: string,
  req: RegisterRequest,
  tags: Tag[] = [],
): Promise<RegisterReply> {
  const { model, bus, clock, account } = d;
  const scope = { region, account };
  const now = clock();
  const clusterSubject = subjects.cluster(region, req.cluster);
  if (model.clusters.get(clusterSubject)?.snapshot.value !== "ACTIVE") {
    if (req.cluster !== "default")
      return { ok: false, code: "ClusterNotFoundException", message: "Cluster not found." };
    const created = await bus.execute({
      subject: clusterSubject,
      resource: arns.cluster(scope, "default"),
      get: () => model.clusters.get(clusterSubject),
      initial: initialCluster,
      decide: (s) =>
        decideCluster(
          {
            type: "CreateCluster",
            event: {
              type: "ClusterCreated",
              at: now,
              clusterArn: arns.cluster(scope, "default"),
              clusterName: "default",
              settings: [],
              capacityProviders: [],
              defaultCapacityProviderStrategy: [],
              tags: [],
            },
          },
          s,
        ),
    });
    if (!created.ok) return { ok: false, ...created.rejection };
  }
  const known = req.instanceId
    ? model.instances.get(subjects.instance(region, req.cluster, req.instanceId))
    : undefined;
  // As in ECS, deregistration is final: the instance does not come back, and its agent is told so
  // (a new id would not do either: an agent's NATS user may be bound to the id it has).
  if (known?.snapshot.value === "INACTIVE")
    return {
      ok: false,
      code: "ClientException",
      message: `The container instance ${known.snapshot.context.containerInstanceArn} was deregistered and cannot register again.`,
      final: true,
    };
  const live = known && (known.snapshot.value === "ACTIVE" || known.snapshot.value === "DRAINING");
  const instanceId = live || (req.instanceId && !known) ? (req.instanceId as string) : d.ids.hex32();
  const subject = subjects.instance(region, req.cluster, instanceId);
  const arn = arns.instance(scope, req.cluster, instanceId);
  const command: InstanceCommand = live
    ? {
        type: "Reregister",
        event: {
          type: "InstanceReregistered",
          at: now,
          registeredResources: req.totalResources,
          attributes: req.attributes,
          versionInfo: req.versionInfo,
          capacity: req.capacity,
        },
      }
    : { type: "Register", event: registered(req, arn, instanceId, now, tags) };
  const r = await bus.execute({
    subject,
    resource: arn,
    get: () => model.instances.get(subject),
    initial: initialInstance,
    decide: (s) => decideInstance(command, s),
  });
  if (!r.ok) return { ok: false, ...r.rejection };
  return { ok: true, containerInstanceArn: arn, instanceId };
}

function registered(
  req: RegisterRequest,
  arn: string,
  instanceId: string,
  at: number,
  tags: Tag[],
): InstanceRegistered {
  return {
    type: "InstanceRegistered",
    at,
    containerInstanceArn: arn,
    instanceId,
    cluster: req.cluster,
    ec2InstanceId: req.ec2InstanceId,
    hostname: req.hostname,
    registeredResources: req.totalResources,
    attributes: req.attributes,
    versionInfo: req.versionInfo,
    capacity: req.capacity,
    tags,
  };
}

export type HeartbeatStore = Pick<KV, "watch">;

/** A request speaks only for the instance its subject names (the subject is what NATS permissions bind). */
function sameInstance(subject: string, body: unknown): boolean {
  const id = (body as { instanceId?: unknown } | null)?.instanceId;
  return typeof id === "string" && id === instanceOfControlSubject(subject);
}

const mismatch = () => ({
  ok: false as const,
  code: "AccessDeniedException",
  message: "The request's instanceId does not match the instance its subject names.",
});
