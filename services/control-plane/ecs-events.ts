import { hash } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { arns } from "../../events/arns.ts";
import type { Envelope } from "../../events/envelope.ts";
import { type EcsDetailType, parseEventSubject, subjects } from "../../events/names.ts";
import type { ServiceEvent } from "../../events/service.events.ts";
import type { InstanceSnapshot } from "../../machines/instance/instance.decide.ts";
import type { ServiceSnapshot } from "../../machines/service/service.decide.ts";
import { CIRCUIT_BREAKER_FAILED } from "../../machines/service/service.reconcile.ts";
import type { TaskSnapshot } from "../../machines/task/task.decide.ts";
import { connectivityOf, taskArnOf } from "../../machines/task/task.spec.ts";
import { instanceTaskCounts } from "../api/handlers/instances.ts";
import { JsonText } from "../api/raw-json.ts";
import { compact, instanceFacts, instanceLists, instanceLoad, renderTask } from "../api/render.ts";
import { EndOfTurn } from "../store/end-of-turn.ts";
import type { Agg, ReadModel } from "./read-model.ts";

/**
 * ECS EventBridge-shaped events, published on core NATS (`subjects.ecsEvent(region, detailType)`)
 * as the control plane folds the log, so tools built for ECS's EventBridge events work unchanged.
 *
 *   log ─► follower ─► read model ─► ecsEventsFor(before, after, event) ─► berth.ecs.<region>.<type>
 *
 * - Task and container-instance events are sent when the resource's `version` changes (the same
 *   counter DescribeTasks / DescribeContainerInstances show), so `detail.version` orders them and
 *   a repeat shares its version. Their `detail` is the API object with ISO-8601 timestamps. As in
 *   ECS, a task placed on an instance or stopped there is a change of the instance too (its
 *   remaining resources moved): that task event is followed by the instance's.
 * - Service actions come from the service's event messages; deployment events from rollout facts.
 * - Only events folded after the start-up replay are published, and only by the scheduler-lease
 *   holder, so N control planes publish each event once. Core NATS is fire-and-forget: the log
 *   stays the durable record; a consumer that must not miss anything follows the stream itself.
 * - Per resource, events are published in log order (one NATS connection keeps publish order).
 */

export interface EcsEvent {
  version: "0";
  id: string;
  "detail-type": EcsDetailType;
  source: "aws.ecs";
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** An event as the JSON text published. */
export function ecsEventText(e: EcsEvent): string {
  if (!(e.detail instanceof JsonText)) return JSON.stringify(e);
  return `${JSON.stringify({ ...e, detail: undefined }).slice(0, -1)},"detail":${e.detail.text}}`;
}

type AnyAgg = Agg<TaskSnapshot> | Agg<InstanceSnapshot> | Agg<ServiceSnapshot>;

const NO_INCLUDE: ReadonlySet<string> = new Set();

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
/** EventBridge's envelope time has whole seconds ("2020-01-23T17:57:58Z"). */
const envelopeTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/**
 * A UUID derived from the log event and the detail type, so the same fact always yields the same
 * event id: a consumer can deduplicate a repeat (e.g. around a lease hand-over) by id.
 */
export function eventUuid(envelopeId: string, detailType: string): string {
  const h = hash("sha1", `${detailType}\n${envelopeId}`, "buffer");
  h[6] = ((h[6] as number) & 0x0f) | 0x50; // version 5 (name-based, SHA-1)
  h[8] = ((h[8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The ECS events one folded log event yields, given the aggregate before and after it. Pure. */
export function ecsEventsFor(
  model: ReadModel,
  account: string,
  subject: string,
  env: Envelope,
  before: AnyAgg | undefined,
  after: AnyAgg | undefined,
): EcsEvent[] {
  const parsed = parseEventSubject(subject);
  if (!parsed || !after) return [];
  const at = typeof env.data.at === "number" ? env.data.at : Date.parse(env.time);
  // One log event can yield two ECS events of one type (a deployment FAILED and its rollback
  // IN_PROGRESS): the second and later are told apart in their ids by their position.
  const make = (detailType: EcsDetailType, resource: string, detail: Record<string, unknown>, nth = 0): EcsEvent => ({
    version: "0",
    id: eventUuid(nth === 0 ? env.id : `${env.id}#${nth}`, detailType),
    "detail-type": detailType,
    source: "aws.ecs",
    account,
    time: envelopeTime(at),
    region: parsed.region,
    resources: [resource],
    detail,
  });
  switch (parsed.kind) {
    case "task": {
      const a = after as Agg<TaskSnapshot>;
      const b = before as Agg<TaskSnapshot> | undefined;
      const t = a.snapshot.context;
      const out: EcsEvent[] = [];
      if (t.version !== b?.snapshot.context.version) out.push(make(TASK_STATE_CHANGE, taskArnOf(t), taskDetail(a, at)));
      // Placed on its instance (created there) or stopped there: the instance's resources moved.
      const moved = b === undefined || (b.snapshot.value !== "STOPPED" && a.snapshot.value === "STOPPED");
      if (moved && t.instanceId !== undefined) {
        const instance = model.instanceSubject(parsed.region, t.spec.cluster, t.instanceId);
        const i = model.instances.get(instance);
        if (i) {
          const detail = instanceDetail(model, account, instance, i, at);
          out.push(make(INSTANCE_STATE_CHANGE, i.snapshot.context.containerInstanceArn, detail));
        }
      }
      return out;
    }
    case "instance": {
      const a = after as Agg<InstanceSnapshot>;
      const i = a.snapshot.context;
      if (i.version === (before as Agg<InstanceSnapshot> | undefined)?.snapshot.context.version) return [];
      return [make(INSTANCE_STATE_CHANGE, i.containerInstanceArn, instanceDetail(model, account, subject, a, at))];
    }
    case "service": {
      const s = (after as Agg<ServiceSnapshot>).snapshot.context;
      return serviceEvents(env.data as unknown as ServiceEvent, s, account, parsed.region).map((d, nth) =>
        make(d.detailType, s.serviceArn, d.detail, nth),
      );
    }
    default:
      return [];
  }
}

/**
 * DescribeTasks' Task with ISO timestamps and `updatedAt`, as ECS's task events carry it. The
 * rendered object is this event's own, so its times are replaced in place; an absent time stays
 * undefined, which JSON leaves out.
 */
function taskDetail(agg: Agg<TaskSnapshot>, at: number): Record<string, unknown> {
  const t = agg.snapshot.context;
  const d: Record<string, unknown> = renderTask(agg, NO_INCLUDE);
  d.tags = undefined; // an API answer's member; ECS's task events carry no tags
  d.createdAt = iso(t.createdAt);
  d.connectivityAt = iso(connectivityOf(t)?.connectivityAt);
  d.pullStartedAt = iso(t.pullStartedAt);
  d.pullStoppedAt = iso(t.pullStoppedAt);
  d.startedAt = iso(t.startedAt);
  d.stoppingAt = iso(t.stoppingAt);
  d.stoppedAt = iso(t.stoppedAt);
  d.executionStoppedAt = iso(t.executionStoppedAt);
  d.updatedAt = iso(at);
  return d;
}

const TASK_STATE_CHANGE: EcsDetailType = "ECS Task State Change";
const INSTANCE_STATE_CHANGE: EcsDetailType = "ECS Container Instance State Change";

/**
 * The JSON text of lists instances share (instanceLists: ~3 kB for an agent's thirty-odd
 * attributes), written once per list, as every task placed on an instance or stopped there sends
 * the instance's event.
 */
const listText = new WeakMap<object, string>();

/**
 * DescribeContainerInstances' ContainerInstance with ISO timestamps, clusterArn and `updatedAt`,
 * as ECS's instance events carry it: the members JSON.stringify would write, the lists' texts
 * reused.
 */
function instanceDetail(
  model: ReadModel,
  account: string,
  subject: string,
  agg: Agg<InstanceSnapshot>,
  at: number,
): JsonText {
  const i = agg.snapshot.context;
  const facts = JSON.stringify({
    ...instanceFacts(agg),
    registeredAt: iso(i.registeredAt),
    clusterArn: arns.cluster({ region: agg.region, account }, i.cluster),
  });
  let lists = "";
  for (const [key, list] of Object.entries(instanceLists(i))) {
    let text = listText.get(list);
    if (text === undefined) {
      text = JSON.stringify(list);
      listText.set(list, text);
    }
    lists += `,"${key}":${text}`;
  }
  const load = JSON.stringify({
    ...instanceLoad(agg, model.usage.get(subject), instanceTaskCounts(model, subject)),
    updatedAt: iso(at),
  });
  return new JsonText(`${facts.slice(0, -1)}${lists},${load.slice(1)}`);
}

type ServiceDetail = { detailType: EcsDetailType; detail: Record<string, unknown> };

function serviceEvents(
  e: ServiceEvent,
  s: ServiceSnapshot["context"],
  account: string,
  region: string,
): ServiceDetail[] {
  const deployment = (
    eventType: "INFO" | "ERROR",
    eventName: string,
    deploymentId: string,
    reason: string,
  ): ServiceDetail => ({
    detailType: "ECS Deployment State Change",
    detail: { eventType, eventName, deploymentId, updatedAt: iso(e.at), reason },
  });
  switch (e.type) {
    case "ServiceCreated":
      return [
        deployment(
          "INFO",
          "SERVICE_DEPLOYMENT_IN_PROGRESS",
          e.deployment.id,
          `ECS deployment ${e.deployment.id} in progress.`,
        ),
      ];
    case "DeploymentStarted": {
      const id = e.deployment.id;
      const target = s.lastCompleted?.id;
      const reason =
        e.deployment.rollbackOf && target
          ? `ECS deployment circuit breaker: rolling back to deploymentId ${target}.`
          : `ECS deployment ${id} in progress.`;
      return [deployment("INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", id, reason)];
    }
    case "DeploymentRolloutChanged":
      if (e.rolloutState === "COMPLETED")
        return [deployment("INFO", "SERVICE_DEPLOYMENT_COMPLETED", e.deploymentId, e.reason)];
      if (e.rolloutState === "FAILED")
        return [
          deployment("ERROR", "SERVICE_DEPLOYMENT_FAILED", e.deploymentId, e.reason === CIRCUIT_BREAKER_FAILED ? BREAKER_EVENT_REASON : e.reason),
          ...(e.rollback ? serviceEvents({ type: "DeploymentStarted", at: e.at, deployment: e.rollback, reason: e.reason }, s, account, region) : []),
        ];
      return [deployment("INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", e.deploymentId, e.reason)];
    case "ServiceEventRecorded": {
      const action = serviceAction(e.key, e.message, e.reason);
      if (!action) return [];
      const closest = /\(container-instance ([0-9a-f]+)\)/.exec(e.message)?.[1];
      return [
        {
          detailType: "ECS Service Action",
          detail: compact({
            eventType: action.eventType,
            eventName: action.eventName,
            clusterArn: s.clusterArn,
            createdAt: iso(e.at),
            reason: action.reason,
            containerInstanceArns:
              closest && action.eventType === "ERROR"
                ? [arns.instance({ region, account }, s.cluster, closest)]
                : undefined,
          }),
        },
      ];
    }
    case "ServiceSettingsChanged":
    case "DeploymentRetired":
    case "ServiceTasksPlaced":
    case "ServiceDeleted":
    case "ServiceDrained":
    case "ServiceTagsChanged":
      return [];
    default:
      return unknownEvent(e);
  }
}

const unknownEvent = (_: never): [] => [];

/** ECS's deployment event says "task" where the service's rolloutStateReason says "tasks". */
const BREAKER_EVENT_REASON = "ECS deployment circuit breaker: task failed to start.";

/**
 * Service messages that ECS also reports as service actions, keyed by the scheduler's message key.
 * Messages about started/stopped tasks and deployment progress have no service action (deployment
 * progress has its own event type).
 */
function serviceAction(
  key: string,
  message: string,
  reason: string | undefined,
): { eventType: "INFO" | "WARN" | "ERROR"; eventName: string; reason?: string } | undefined {
  switch (key) {
    case "steady":
      return { eventType: "INFO", eventName: "SERVICE_STEADY_STATE" };
    case "throttle":
      return { eventType: "WARN", eventName: "SERVICE_TASK_START_IMPAIRED" };
    case "placement":
      return { eventType: "ERROR", eventName: "SERVICE_TASK_PLACEMENT_FAILURE", reason: reason ?? placementReason(message) };
    case "taskdef":
      return { eventType: "ERROR", eventName: "SERVICE_TASK_CONFIGURATION_FAILURE", reason: message };
    default:
      return undefined;
  }
}

/**
 * ECS's placement failure reasons, recovered from the scheduler's message wording
 * (scheduler.ts unplacedMessage), for messages recorded before they carried their reason.
 */
function placementReason(message: string): string | undefined {
  if (message.includes("insufficient memory")) return "RESOURCE:MEMORY";
  if (message.includes("insufficient CPU")) return "RESOURCE:CPU";
  if (message.includes("already using a port")) return "RESOURCE:PORTS";
  if (message.includes("missing an attribute")) return "ATTRIBUTE";
  return undefined;
}

export interface EcsEventPublisherOptions {
  nc: NatsConnection;
  model: ReadModel;
  account: string;
  log: Logger;
  /** True while this process holds the scheduler lease (the one publisher of a region set). */
  leading: () => boolean;
  /** Counts what was published (metrics). */
  published?: (detailType: EcsDetailType) => void;
}

/**
 * Publishes the ECS events of folded log events. Used from the log follower's handler:
 * `const emit = publisher.capture(seq, subject)` before the read model folds the message (it keeps
 * the aggregate as it was), then `emit?.(envelope)` with the envelope the read model decoded.
 * Never throws into the fold.
 */
export class EcsEventPublisher {
  /** Log sequence after which events are live (set once the start-up replay is done). */
  private liveAfter = Number.POSITIVE_INFINITY;
  /** Publishes leave together at the end of the turn (in order), not one socket write each. */
  private readonly sends = new EndOfTurn((err) => this.o.log.warn({ err }, "ECS event not published"));

  constructor(private readonly o: EcsEventPublisherOptions) {}

  /** Events after `seq` are live; everything up to it was replay and is never published. */
  goLive(seq: number) {
    this.liveAfter = seq;
  }

  capture(seq: number, subject: string): ((env: Envelope) => void) | undefined {
    if (seq <= this.liveAfter || !this.o.leading()) return undefined;
    const before = this.aggregate(subject);
    // The envelope is the one the read model just folded (decoded once, never modified).
    return (env) => {
      try {
        const after = this.aggregate(subject);
        for (const e of ecsEventsFor(this.o.model, this.o.account, subject, env, before, after))
          this.send(subjects.ecsEvent(e.region, e["detail-type"]), ecsEventText(e), e["detail-type"]);
      } catch (err) {
        this.o.log.warn({ err, seq, subject }, "ECS event not published");
      }
    };
  }

  private send(to: string, payload: string, detailType: EcsDetailType) {
    this.sends.run(() => this.o.nc.publish(to, payload));
    this.o.published?.(detailType);
  }

  private aggregate(subject: string): AnyAgg | undefined {
    const m = this.o.model;
    return m.tasks.get(subject) ?? m.instances.get(subject) ?? m.services.get(subject);
  }
}
