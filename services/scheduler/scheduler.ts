import type { Logger } from "pino";
import { arns, parseArn } from "../../events/arns.ts";
import { parseEventSubject, subjects } from "../../events/names.ts";
import type { PlacementStrategy, Tag } from "../../events/shapes.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import type { TaskDefinitionRevision } from "../../events/taskdef.shapes.ts";
import { deploymentLaunchType } from "../../machines/account/capacity-providers.ts";
import type { PlacementFailure } from "../../machines/placement/types.ts";
import { decideService, initialService, type ServiceCommand, type ServiceSnapshot } from "../../machines/service/service.decide.ts";
import type { PlacedSlot, ServiceContext } from "../../machines/service/service.machine.ts";
import { type Plan, reconcile } from "../../machines/service/service.reconcile.ts";
import { decideTask, initialTask } from "../../machines/task/task.decide.ts";
import { reservationOf, runtimeSpec } from "../../machines/task/task.spec.ts";
import { latestActive, revisionOf } from "../../machines/taskdef/taskdef.decide.ts";
import type { ApiServices } from "../api/context.ts";
import { deploymentId } from "../api/handlers/services.ts";
import { type Placement, placeTasks } from "../control-plane/placement.ts";
import type { Agg } from "../control-plane/read-model.ts";
import { SERVICE_GROUP_PREFIX } from "../control-plane/read-model.ts";
import { createTask, taskCreated } from "../control-plane/task-factory.ts";
import { ConcurrencyError } from "../store/event-store.ts";
import { daemonInstances, instanceSets, serviceTaskViews } from "./views.ts";

/** Every service is reconciled at least this often even when no event wakes it (level-triggered). */
const RESYNC_MS = 10_000;
/** A reconcile that failed (log unavailable, lost race) is retried after this. */
const RETRY_MS = 1_000;
/**
 * Tasks one reconcile places at most; the service's own events wake it for the rest. Keeps the
 * ServiceTasksPlaced record well inside NATS's 1 MB message limit and within the slots the
 * service aggregate remembers (MAX_PLACED_SLOTS), and lets the first tasks start while the
 * others are still being placed.
 */
const MAX_PLACEMENTS_PER_PASS = 500;
/**
 * Reconciles of one busy service are spaced by this many times the last one's duration, times
 * the number of services reconciling: a service with 5,000 tasks whose every task event wakes it
 * must not spend the control plane on passes that mostly find nothing to do. A small service's
 * pass takes microseconds, so it is not delayed in practice.
 */
const PASS_SPACING_FACTOR = 4;
const MAX_PASS_SPACING_MS = 250;
/**
 * A recorded slot younger than this may still be having its task created, by this process or a
 * leader that has just lost its lease; only an older one whose task is missing is repaired.
 */
export const SLOT_IN_FLIGHT_MS = 2_000;

/** ECS's default placement for service tasks: spread over availability zones, then over instances. */
const DEFAULT_SERVICE_STRATEGY: PlacementStrategy[] = [
  { type: "spread", field: "attribute:ecs.availability-zone" },
  { type: "spread", field: "instanceId" },
];

/**
 * Service events that change what a service wants (created, its settings, a new deployment): the
 * cause of the tasks it launches for them. Its other events (placements, messages, rollout states)
 * are the scheduler's own records and cause nothing.
 */
const SERVICE_CAUSES: ReadonlySet<string> = new Set(["ServiceCreated", "ServiceSettingsChanged", "DeploymentStarted"]);

/**
 * The live service scheduler: level-triggered and keyed per service (Kubernetes controller
 * style). An event only names the services it concerns; the worker re-reads everything from the
 * read model, runs the pure reconcile and executes the plan. Only the lease holder acts.
 *
 * Expectations: the scheduler records the slots it places on the service's own subject
 * (ServiceTasksPlaced) before creating the tasks, and reconcile counts recorded slots whose task
 * is not in the read model yet as in flight — so a wake-up while its own writes are in flight
 * never places twice, and the append's expected sequence fences a former leader out.
 */
export interface SchedulerOptions {
  /** How long a RUNNING task with no health check waits before it counts toward minimumHealthyPercent (default ECS's 40 s). */
  noHealthCheckWaitMs?: number;
}

export class Scheduler {
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The latest event that woke each service: the causation of what its reconcile writes. */
  private readonly causes = new Map<string, string>();
  /** Draining and lost instances per cluster subject; dropped when an instance event of the cluster is folded. */
  private readonly instanceSetsCache = new Map<string, ReturnType<typeof instanceSets>>();
  /** `${region}|${cluster}|${group}` → the service subject a task of that group wakes. */
  private readonly serviceOfGroup = new Map<string, string>();
  /** A placed slot's task subject (slots are immutable values of the service aggregate). */
  private readonly slotSubjects = new WeakMap<PlacedSlot, string>();
  private resync: NodeJS.Timeout | undefined;
  private leading: () => boolean = () => false;

  constructor(
    private readonly s: ApiServices,
    private readonly log: Logger,
    private readonly opts: SchedulerOptions = {},
  ) {}

  /** Starts acting while `isLeader()` holds. */
  start(isLeader: () => boolean) {
    this.leading = isLeader;
    this.resync = setInterval(() => this.wakeAll(), RESYNC_MS);
    this.resync.unref();
    this.wakeAll();
  }

  stop() {
    if (this.resync) clearInterval(this.resync);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  wakeAll() {
    for (const subject of this.s.model.services.keys()) this.wake(subject);
  }

  /**
   * Called for every event folded into the read model: wakes the services it concerns. The event
   * becomes the cause of the tasks the service launches next, unless it is the scheduler's own
   * record of a service (SERVICE_CAUSES lists the service events that are not).
   */
  notify(subject: string, eventId?: string, eventType?: string) {
    const parsed = parseEventSubject(subject);
    if (!parsed) return;
    const wake = (svc: string, cause = true) => {
      if (eventId && cause) this.causes.set(svc, eventId);
      this.wake(svc);
    };
    if (parsed.kind === "service") wake(subject, eventType !== undefined && SERVICE_CAUSES.has(eventType));
    else if (parsed.kind === "task") {
      const group = this.s.model.tasks.get(subject)?.snapshot.context.group;
      if (group?.startsWith(SERVICE_GROUP_PREFIX)) {
        const key = `${parsed.region}|${parsed.ids[0]}|${group}`;
        let svc = this.serviceOfGroup.get(key);
        if (svc === undefined) {
          svc = subjects.service(parsed.region, parsed.ids[0] as string, group.slice(SERVICE_GROUP_PREFIX.length));
          this.serviceOfGroup.set(key, svc);
        }
        wake(svc);
      }
    } else if (parsed.kind === "instance") {
      this.instanceSetsCache.delete(subjects.cluster(parsed.region, parsed.ids[0] as string));
      for (const svc of this.s.model.servicesByCluster.get(subjects.cluster(parsed.region, parsed.ids[0] as string)) ?? [])
        wake(svc);
    }
  }

  /** Queues one reconcile of the service; wake-ups while one is queued or running coalesce. */
  wake(subject: string) {
    if (!this.leading()) return;
    this.dirty.add(subject);
    if (this.running.has(subject)) return;
    this.running.add(subject);
    setImmediate(() => void this.loop(subject));
  }

  private after(subject: string, at: number) {
    const prev = this.timers.get(subject);
    if (prev) clearTimeout(prev);
    const t = setTimeout(() => {
      this.timers.delete(subject);
      this.wake(subject);
    }, Math.max(0, at - this.s.clock()));
    t.unref();
    this.timers.set(subject, t);
  }

  private async loop(subject: string) {
    try {
      while (this.dirty.has(subject) && this.leading()) {
        this.dirty.delete(subject);
        const started = performance.now();
        try {
          const retryAt = await this.reconcileOne(subject);
          if (retryAt !== undefined) this.after(subject, retryAt);
        } catch (err) {
          const race = err instanceof ConcurrencyError;
          this.log[race ? "debug" : "warn"]({ err, subject }, race ? "service changed under the scheduler; reconciling again" : "reconcile failed; retrying");
          this.after(subject, this.s.clock() + (race ? 0 : RETRY_MS));
        }
        const spacing = Math.min(MAX_PASS_SPACING_MS, (performance.now() - started) * PASS_SPACING_FACTOR * this.running.size);
        if (spacing >= 1 && this.dirty.has(subject)) await new Promise((r) => setTimeout(r, spacing));
      }
    } finally {
      this.running.delete(subject);
    }
  }

  /** One reconcile of one service. Returns when to reconcile again, if a timer is needed. */
  async reconcileOne(subject: string): Promise<number | undefined> {
    const agg = this.s.model.services.get(subject);
    if (!agg || agg.snapshot.value === "NEW" || agg.snapshot.value === "INACTIVE") return undefined;
    const svc = agg.snapshot.context;
    const now = this.s.clock();
    const clusterSubject = subjects.cluster(agg.region, svc.cluster);
    let sets = this.instanceSetsCache.get(clusterSubject);
    if (!sets) {
      sets = instanceSets(this.s.model, clusterSubject);
      this.instanceSetsCache.set(clusterSubject, sets);
    }
    const { draining, lost } = sets;
    const pendingSlots = svc.placed.filter((p) => !this.s.model.tasks.has(this.slotSubject(agg.region, svc.cluster, p)));
    const plan = reconcile({
      status: agg.snapshot.value as "ACTIVE" | "DRAINING",
      service: svc,
      tasks: serviceTaskViews(this.s.model, subject),
      pendingSlots,
      drainingInstances: draining,
      lostInstances: lost,
      daemonInstances:
        svc.schedulingStrategy === "DAEMON"
          ? daemonInstances(this.s.model, clusterSubject, svc.settings.placementConstraints, deploymentLaunchType(svc.deployments[0]))
          : undefined,
      now,
      newDeploymentId: deploymentId(),
      ...(this.opts.noHealthCheckWaitMs !== undefined ? { noHealthCheckWaitMs: this.opts.noHealthCheckWaitMs } : {}),
    });
    await this.repair(agg, pendingSlots, now);
    await this.execute(agg, plan, now);
    return plan.retryAt;
  }

  private slotSubject(region: string, cluster: string, slot: PlacedSlot): string {
    let subject = this.slotSubjects.get(slot);
    if (subject === undefined) {
      subject = subjects.task(region, cluster, slot.taskId);
      this.slotSubjects.set(slot, subject);
    }
    return subject;
  }

  private service(subject: string, command: ServiceCommand) {
    return this.s.bus.execute({
      subject,
      resource: this.s.model.services.get(subject)?.snapshot.context.serviceArn ?? subject,
      get: () => this.s.model.services.get(subject),
      initial: initialService,
      decide: (state) => decideService(command, state),
    });
  }

  private message(subject: string, key: string, message: string, now: number, reason?: string) {
    return this.service(subject, { type: "RecordMessage", at: now, id: this.s.ids.uuid(), key, message, ...(reason === undefined ? {} : { reason }) });
  }

  private async execute(agg: Agg<ServiceSnapshot>, plan: Plan, now: number) {
    const subject = agg.subject;
    const svc = agg.snapshot.context;
    const name = svc.serviceName;
    // Placement first: it is fenced on the service's sequence as read for this reconcile.
    for (const p of plan.place) {
      const count = Math.min(p.count, MAX_PLACEMENTS_PER_PASS);
      // The rest is placed by the next pass, which the events of this one wake.
      if (count < p.count) this.dirty.add(subject);
      await this.place(agg, p.deploymentId, count, p.instanceIds?.slice(0, count), now);
    }
    for (const r of plan.rollout)
      await this.service(subject, { type: "SetRollout", at: now, deploymentId: r.deploymentId, rolloutState: r.rolloutState, reason: r.reason, ...(r.rollback ? { rollback: r.rollback } : {}) });
    for (const id of plan.retire) await this.service(subject, { type: "RetireDeployment", at: now, deploymentId: id });
    if (plan.stop.length > 0) {
      const stopped: string[] = [];
      for (const st of plan.stop) {
        const id = st.taskArn.split("/").pop() as string;
        const taskSubject = subjects.task(agg.region, svc.cluster, id);
        const r = await this.s.bus.execute({
          subject: taskSubject,
          resource: st.taskArn,
          get: () => this.s.model.tasks.get(taskSubject),
          initial: initialTask,
          decide: (state) => decideTask({ type: "StopTask", at: now, stopCode: "ServiceSchedulerInitiated", reason: st.reason }, state),
        });
        if (r.ok && r.events.length > 0) stopped.push(id);
      }
      if (stopped.length > 0)
        await this.message(subject, `stopped:${now}`, `(service ${name}) has stopped ${stopped.length} running tasks: ${stopped.map((t) => `(task ${t})`).join(" ")}.`, now);
    }
    for (const m of plan.messages) await this.message(subject, m.key, m.message, now);
    if (plan.drained) await this.service(subject, { type: "MarkDrained", at: now });
  }

  /** Places `count` tasks of a deployment, records the slots (fenced), then creates the tasks. */
  private async place(agg: Agg<ServiceSnapshot>, depId: string, count: number, instanceIds: string[] | undefined, now: number) {
    const svc = agg.snapshot.context;
    const dep = svc.deployments.find((d) => d.id === depId);
    const definition = dep ? this.definition(agg.region, dep.taskDefinition) : undefined;
    if (!dep || !definition) {
      await this.message(agg.subject, "taskdef", `(service ${svc.serviceName}) was unable to place a task because its task definition ${dep?.taskDefinition} no longer exists.`, now);
      return;
    }
    const scope = { region: agg.region, account: this.s.account };
    const cluster = { name: svc.cluster, arn: svc.clusterArn, subject: subjects.cluster(agg.region, svc.cluster) };
    const launchType = deploymentLaunchType(dep);
    const specs = Array.from({ length: count }, () => {
      const taskId = this.s.ids.hex32();
      const r = runtimeSpec({
        taskArn: arns.task(scope, svc.cluster, taskId),
        taskId,
        clusterArn: svc.clusterArn,
        cluster: svc.cluster,
        definition,
        overrides: {},
        launchType,
      });
      if (!r.ok) throw new Error(r.rejection.message);
      return r.spec;
    });
    const constraints = [...definition.placementConstraints, ...svc.settings.placementConstraints];
    const fenced = this.s.model.services.get(agg.subject);
    const ctx = { region: agg.region, scope, requestId: `scheduler:${depId}`, now, log: this.log };
    let placements: Placement[] = [];
    const result = await placeTasks(this.s, ctx, cluster, {
      count,
      reservation: reservationOf(specs[0]!),
      group: `${SERVICE_GROUP_PREFIX}${svc.serviceName}`,
      launchType,
      requiresAttributes: definition.requiresAttributes,
      constraints: instanceIds ? constraints.filter((c) => c.type !== "distinctInstance") : constraints,
      strategies: svc.settings.placementStrategy.length ? svc.settings.placementStrategy : DEFAULT_SERVICE_STRATEGY,
      onlyInstances: instanceIds,
      allowEmptyCluster: true,
      record: async (ps) => {
        placements = ps;
        // Fenced: appended at the sequence this reconcile read; a conflict aborts the whole batch.
        const r = await this.s.bus.execute({
          subject: agg.subject,
          resource: svc.serviceArn,
          get: () => fenced,
          initial: initialService,
          decide: (state) =>
            decideService(
              { type: "RecordPlacement", at: now, deploymentId: depId, tasks: ps.map((p, i) => ({ taskId: specs[i]!.taskId, instanceId: p.instanceId, instanceArn: p.instanceArn, ...(p.availabilityZone ? { availabilityZone: p.availabilityZone } : {}) })) },
              state,
            ),
          retry: false,
        });
        if (!r.ok) throw new Error(r.rejection.message);
      },
      create: async (i, placement) => this.create(agg, depId, specs[i]!, definition, placement, now),
    });
    const started = result.tasks.map((t) => t.taskId);
    if (started.length > 0)
      await this.message(agg.subject, `started:${now}`, `(service ${svc.serviceName}) has started ${started.length} tasks: ${started.map((t) => `(task ${t})`).join(" ")}.`, now);
    if (result.failures.length > 0 || (placements.length === 0 && started.length === 0 && count > 0)) {
      const failure = result.failures[0];
      await this.message(agg.subject, "placement", unplacedMessage(svc.serviceName, failure), now, failure?.reason);
    }
  }

  private async create(
    agg: Agg<ServiceSnapshot>,
    depId: string,
    spec: TaskRuntimeSpec,
    definition: TaskDefinitionRevision & { tags: Tag[] },
    placement: Placement,
    now: number,
  ): Promise<{ taskId: string }> {
    const svc = agg.snapshot.context;
    const dep = svc.deployments.find((d) => d.id === depId);
    const event = taskCreated(
      {
        scope: { region: agg.region, account: this.s.account },
        at: now,
        spec,
        placement,
        group: `${SERVICE_GROUP_PREFIX}${svc.serviceName}`,
        startedBy: depId,
        overrides: {},
        tags: serviceTaskTags(svc, definition),
        launchType: spec.launchType,
        platformVersion: dep?.platformVersion,
        networkConfiguration: dep?.networkConfiguration,
        capacityProviderName: dep?.capacityProviderStrategy?.[0]?.capacityProvider,
        enableExecuteCommand: svc.settings.enableExecuteCommand,
      },
      this.s.ids,
    );
    const r = await createTask(this.s.bus, this.s.model, agg.region, event, undefined, this.causes.get(agg.subject));
    if (!r.ok) throw new Error(r.rejection.message);
    return { taskId: spec.taskId };
  }

  /** Slots recorded as placed whose task never got created (a crash in between): create them now. */
  private async repair(agg: Agg<ServiceSnapshot>, slots: PlacedSlot[], now: number) {
    const svc = agg.snapshot.context;
    for (const slot of slots) {
      if (now - slot.at < SLOT_IN_FLIGHT_MS) continue;
      const dep = svc.deployments.find((d) => d.id === slot.deploymentId);
      const definition = dep && this.definition(agg.region, dep.taskDefinition);
      if (!dep || !definition) continue;
      const scope = { region: agg.region, account: this.s.account };
      const r = runtimeSpec({
        taskArn: arns.task(scope, svc.cluster, slot.taskId),
        taskId: slot.taskId,
        clusterArn: svc.clusterArn,
        cluster: svc.cluster,
        definition,
        overrides: {},
        launchType: deploymentLaunchType(dep),
      });
      if (!r.ok) continue;
      this.log.info({ taskId: slot.taskId, service: svc.serviceName }, "creating a task whose slot was recorded but not created");
      await this.create(agg, slot.deploymentId, r.spec, definition, { instanceArn: slot.instanceArn, instanceId: slot.instanceId, ...(slot.availabilityZone ? { availabilityZone: slot.availabilityZone } : {}) }, now);
    }
  }

  private definition(region: string, taskDefinitionArn: string): (TaskDefinitionRevision & { tags: Tag[] }) | undefined {
    const p = parseArn(taskDefinitionArn);
    const [family, rev] = (p?.path[0] ?? "").split(":");
    const agg = family ? this.s.model.taskDefinitions.get(subjects.taskDefinition(region, family)) : undefined;
    if (!agg) return undefined;
    return rev ? revisionOf(agg.snapshot, Number(rev)) : latestActive(agg.snapshot);
  }
}

/** Tags a service task gets: propagated from the service or the task definition, plus ECS managed tags. */
function serviceTaskTags(svc: ServiceContext, definition: { tags: Tag[] }): Tag[] {
  const base = svc.settings.propagateTags === "SERVICE" ? svc.tags : svc.settings.propagateTags === "TASK_DEFINITION" ? definition.tags : [];
  return svc.settings.enableECSManagedTags
    ? [...base, { key: "aws:ecs:clusterName", value: svc.cluster }, { key: "aws:ecs:serviceName", value: svc.serviceName }]
    : [...base];
}

const TROUBLESHOOTING = "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";

/** ECS's words for a service task that could not be placed. */
export function unplacedMessage(service: string, failure: Pick<PlacementFailure, "arn"> & { reason: string } | undefined): string {
  const head = `(service ${service}) was unable to place a task because no container instance met all of its requirements.`;
  if (!failure) return `${head} Reason: No Container Instances were found in your cluster. ${TROUBLESHOOTING}`;
  const id = failure.arn.split("/").pop();
  const closest = `The closest matching (container-instance ${id})`;
  switch (failure.reason) {
    case "RESOURCE:MEMORY":
      return `${head} ${closest} has insufficient memory available. ${TROUBLESHOOTING}`;
    case "RESOURCE:CPU":
      return `${head} ${closest} has insufficient CPU units available. ${TROUBLESHOOTING}`;
    case "RESOURCE:PORTS":
    case "RESOURCE:PORTS_UDP":
      return `${head} ${closest} is already using a port required by your task. ${TROUBLESHOOTING}`;
    case "ATTRIBUTE":
      return `${head} ${closest} is missing an attribute required by your task. ${TROUBLESHOOTING}`;
    case "AGENT":
      return `${head} ${closest} encountered error "AGENT". ${TROUBLESHOOTING}`;
    case "MemberOf placement constraint unsatisfied.":
    case "DistinctInstance placement constraint unsatisfied.":
      return `${head} ${closest} encountered error "${failure.reason}". ${TROUBLESHOOTING}`;
    default:
      return `${head} Reason: ${failure.reason === "NO ACTIVE INSTANCES" ? "No Container Instances were found in your cluster." : failure.reason} ${TROUBLESHOOTING}`;
  }
}
