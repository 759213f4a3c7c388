import type { DeploymentSpec, RolloutState } from "../../events/service.events.ts";
import type { HealthStatus, StopCode, TaskStatus } from "../../events/task.events.ts";
import { type Deployment, type PlacedSlot, type ServiceContext, serviceRevisionOf } from "./service.machine.ts";

/** The rolloutStateReason of a deployment the circuit breaker failed, as DescribeServices shows it. */
export const CIRCUIT_BREAKER_FAILED = "ECS deployment circuit breaker: tasks failed to start.";

/**
 * Service reconcile, pure (Nomad's reconciler, Kubernetes' ReplicaSet controller): everything it
 * needs comes in — the service, its tasks, the instances, the time — and a plan comes out in
 * named buckets. The scheduler shell executes the plan and reconciles again on the next wake-up;
 * a reconcile from any state converges because every decision is re-derived from facts.
 *
 * Bounds (ECS): during deployments and draining, tasks that count as healthy never drop below
 * ceil(desired × minimumHealthyPercent / 100), and tasks that occupy the service (not STOPPED)
 * never exceed floor(desired × maximumPercent / 100).
 */

export interface ServiceTaskView {
  taskArn: string;
  taskId: string;
  deploymentId: string;
  instanceId?: string;
  lastStatus: TaskStatus;
  desiredStatus: "RUNNING" | "STOPPED";
  health: HealthStatus;
  hasHealthCheck: boolean;
  createdAt: number;
  startedAt?: number;
  stoppedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  /** Scale-in protection (UpdateTaskProtection) lasts until this time. */
  protectedUntil?: number;
}

export interface ReconcileInput {
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  service: ServiceContext;
  /** Every task of the service, STOPPED ones included. */
  tasks: ServiceTaskView[];
  /** Slots recorded as placed whose task is not in the read model yet (creation in flight or lost). */
  pendingSlots: PlacedSlot[];
  /** Instances whose tasks must move: DRAINING, or agent lost. */
  drainingInstances: ReadonlySet<string>;
  /** Instances whose agent is lost: their tasks are neither healthy nor occupying. */
  lostInstances: ReadonlySet<string>;
  /** DAEMON only: the instances that should each run one task. */
  daemonInstances?: readonly string[];
  now: number;
  /** A fresh deployment id, used only if this reconcile starts a rollback. */
  newDeploymentId: string;
  /** How long a RUNNING task with no health check waits before it counts as healthy (default NO_HEALTH_CHECK_WAIT_MS). */
  noHealthCheckWaitMs?: number;
}

export interface Plan {
  /** Tasks to start; for DAEMON each entry names its instance. */
  place: { deploymentId: string; count: number; instanceIds?: string[] }[];
  stop: { taskArn: string; reason: string }[];
  rollout: { deploymentId: string; rolloutState: RolloutState; reason: string; rollback?: DeploymentSpec }[];
  retire: string[];
  messages: { key: string; message: string }[];
  /** The service finished draining: mark it INACTIVE. */
  drained: boolean;
  /** Reconcile again at this time even if nothing else happens (throttle, grace period, breaker window). */
  retryAt?: number;
}

/**
 * ECS: a task with no essential container health check counts toward minimumHealthyPercent 40 s
 * after it reaches RUNNING; one with health checks, once HEALTHY.
 */
export const NO_HEALTH_CHECK_WAIT_MS = 40_000;
/** How the scheduler's own stops (scale-in, deployments, drains, deletion) begin their reason (ECS's words). */
const SCALING = "Scaling activity initiated by";
/** Why the scheduler stops a task that failed its container health checks (ECS's words). */
export const UNHEALTHY_STOP_REASON = "Task failed container health checks";
/** A task must have run this long before it resets the circuit breaker's failure count. */
export const STABLE_RUN_MS = 10_000;
/** ECS throttles launches after repeated start failures, up to 15 minutes between attempts. */
export const MAX_THROTTLE_MS = 15 * 60_000;
export const THROTTLE_BASE_MS = 5_000;
/** Consecutive start failures before throttling begins. */
export const THROTTLE_AFTER = 3;

const FAILURE_CODES: ReadonlySet<StopCode | undefined> = new Set(["EssentialContainerExited", "TaskFailedToStart"]);

const occupies = (t: ServiceTaskView) => t.lastStatus !== "STOPPED";
const live = (t: ServiceTaskView) => t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED";

export function reconcile(input: ReconcileInput): Plan {
  const plan: Plan = { place: [], stop: [], rollout: [], retire: [], messages: [], drained: false };
  const { service, now } = input;
  const name = service.serviceName;
  const lost = (t: ServiceTaskView) => t.instanceId !== undefined && input.lostInstances.has(t.instanceId);
  const moving = (t: ServiceTaskView) => t.instanceId !== undefined && input.drainingInstances.has(t.instanceId);
  const graceMs = (service.settings.healthCheckGracePeriodSeconds ?? 0) * 1000;
  const graceOver = (t: ServiceTaskView) => now - (t.startedAt ?? now) >= graceMs;
  const wait = input.noHealthCheckWaitMs ?? NO_HEALTH_CHECK_WAIT_MS;
  /** Running and not known to be failing: what a deployment waits for, and what it never stops freely. */
  const serving = (t: ServiceTaskView) =>
    live(t) && t.lastStatus === "RUNNING" && !lost(t) && (!t.hasHealthCheck || t.health === "HEALTHY");
  /** When a serving task counts toward minimumHealthyPercent. */
  const countsFrom = (t: ServiceTaskView) => (t.hasHealthCheck || t.startedAt === undefined ? now : t.startedAt + wait);
  const healthy = (t: ServiceTaskView) => serving(t) && countsFrom(t) <= now;
  const unhealthy = (t: ServiceTaskView) =>
    live(t) && t.lastStatus === "RUNNING" && t.hasHealthCheck && t.health === "UNHEALTHY" && graceOver(t);
  // Protected tasks are not stopped by scale-in or deployments until their protection expires (ECS).
  const shielded = (t: ServiceTaskView) => t.protectedUntil !== undefined && t.protectedUntil > now;
  const wakeAt = (at: number) => {
    plan.retryAt = plan.retryAt === undefined ? at : Math.min(plan.retryAt, at);
  };
  // The tasks this plan stops, as a set: asked of every task in several passes.
  const stopped = new Set<string>();
  const stop = (t: ServiceTaskView, reason: string) => {
    if (stopped.has(t.taskArn)) return;
    stopped.add(t.taskArn);
    plan.stop.push({ taskArn: t.taskArn, reason });
  };

  if (input.status !== "ACTIVE") {
    for (const t of input.tasks) if (live(t)) stop(t, `${SCALING} (service ${name}) deletion`);
    plan.drained = input.status === "DRAINING" && !input.tasks.some((t) => occupies(t) && !lost(t)) && input.pendingSlots.length === 0;
    return plan;
  }

  const [primary, ...older] = service.deployments;
  if (!primary) return plan;
  const scaling = (d: Deployment) => `${SCALING} (deployment ${d.id})`;

  // Tasks on lost instances are written off at once (replaced elsewhere); the agent stops them when it returns.
  for (const t of input.tasks) if (live(t) && lost(t)) stop(t, "Task stopped because its container instance lost contact with the control plane");

  const failed = primary.rolloutState === "FAILED";
  // A FAILED deployment (no rollback) launches nothing: the service goes on with the one before.
  const fallback = failed ? older.find((d) => d.rolloutState !== "FAILED") : undefined;
  /** The deployment that keeps the service at its desired count, and so replaces its own tasks. */
  const keeper = service.schedulingStrategy === "DAEMON" ? undefined : failed ? fallback : primary;
  // Unhealthy tasks (past the grace period) are replaced. The keeper's are replaced before they
  // stop (step 2c); any other's stop now — a daemon's, a FAILED deployment's, an old one's.
  for (const t of input.tasks) if (unhealthy(t) && (t.deploymentId !== keeper?.id || moving(t))) stop(t, UNHEALTHY_STOP_REASON);
  // One unhealthy within its grace period is looked at again when the grace period ends.
  for (const t of input.tasks)
    if (live(t) && t.lastStatus === "RUNNING" && t.hasHealthCheck && t.health === "UNHEALTHY" && !graceOver(t))
      wakeAt((t.startedAt ?? now) + graceMs);

  const stopping = (t: ServiceTaskView) => stopped.has(t.taskArn);
  const current = (t: ServiceTaskView) => live(t) && !stopping(t);
  const ofPrimary = (t: ServiceTaskView) => t.deploymentId === primary.id;
  const inFlight = input.pendingSlots.filter((s) => s.deploymentId === primary.id).length;
  /** The keeper's unhealthy tasks: they stay until replacements count as healthy (or room runs out). */
  const sick = input.tasks.filter((t) => current(t) && unhealthy(t));
  const sickSet = new Set(sick);
  const isSick = (t: ServiceTaskView) => sickSet.has(t);

  if (service.schedulingStrategy === "DAEMON") return daemon(input, plan, primary, current, serving, stop, scaling);

  const desired = service.settings.desiredCount;
  const cfg = service.settings.deploymentConfiguration;
  const maxTotal = Math.floor((desired * (cfg.maximumPercent ?? 200)) / 100);
  const minHealthy = Math.ceil((desired * (cfg.minimumHealthyPercent ?? 100)) / 100);

  // 0. Circuit breaker, before anything is placed: a deployment that has failed often enough
  // launches nothing more (the rollback, if any, is placed by the next reconcile).
  const breaker = cfg.deploymentCircuitBreaker;
  if (breaker?.enable && primary.rolloutState === "IN_PROGRESS") {
    const failures = failedTaskCount(primary, input.tasks, now, breaker.resetOnHealthyTask ?? true);
    if (failures >= breakerThreshold(desired, breaker.thresholdConfiguration)) {
      const target = breaker.rollback ? service.lastCompleted : undefined;
      plan.rollout.push({
        deploymentId: primary.id,
        rolloutState: "FAILED",
        reason: CIRCUIT_BREAKER_FAILED,
        ...(target
          ? { rollback: { ...target, id: input.newDeploymentId, rollbackOf: primary.id, revision: serviceRevisionOf(target) } }
          : {}),
      });
      // ECS's service events, in the order it writes them (DescribeServices shows the newest first).
      plan.messages.push({ key: "failed", message: `(service ${name}) (deployment ${primary.id}) deployment failed: tasks failed to start.` });
      if (target) plan.messages.push({ key: "rollback", message: `(service ${name}) rolling back to deployment ${target.id}.` });
      return plan;
    }
  }

  /** Whether launches for a deployment with these tasks wait (ECS's throttle); if so, says so and asks to be woken then. */
  const throttled = (tasks: ServiceTaskView[]) => {
    const until = throttleUntil(tasks, now);
    if (until === undefined || until <= now) return false;
    wakeAt(until);
    plan.messages.push({
      key: "throttle",
      message: `(service ${name}) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`,
    });
    return true;
  };

  /** Places or stops tasks of `d` until the service's current tasks, of every deployment, are `desired`. */
  const fallbackToDesired = (d: Deployment) => {
    const mine = (t: ServiceTaskView) => t.deploymentId === d.id;
    const total = input.tasks.filter((t) => current(t) && !moving(t) && !isSick(t)).length + input.pendingSlots.length;
    if (total > desired) {
      const own = input.tasks.filter((t) => current(t) && mine(t) && !isSick(t));
      const extra = own.filter((t) => !shielded(t)).sort((a, b) => rankForScaleIn(a) - rankForScaleIn(b) || b.createdAt - a.createdAt);
      for (const t of extra.slice(0, total - desired)) stop(t, scaling(d));
      for (const t of own) if (shielded(t)) wakeAt(t.protectedUntil as number);
    } else if (total < desired) {
      const count = Math.min(desired - total, Math.max(0, maxTotal - occupying));
      if (!throttled(input.tasks.filter(mine)) && count > 0) plan.place.push({ deploymentId: d.id, count });
    }
  };

  // Primary tasks that stay (not on draining instances, not unhealthy) are what the deployment
  // has; the rest must go.
  const primaryKept = input.tasks.filter((t) => current(t) && ofPrimary(t) && !moving(t) && !isSick(t));
  const leaving = input.tasks.filter((t) => current(t) && (!ofPrimary(t) || moving(t)) && !isSick(t));
  const occupying = input.tasks.filter((t) => occupies(t) && !lost(t)).length + input.pendingSlots.length;

  /** The service's tasks that count as healthy now, of every deployment. */
  const countedNow = input.tasks.filter((t) => healthy(t) && !stopping(t) && !moving(t)).length;
  const placedSoFar = () => plan.place.reduce((n, p) => n + p.count, 0);

  // 1. During a rollout, a task of an older deployment that stops for a reason of its own (its
  // container exited, it failed its health checks, its instance was lost, a user stopped it) is
  // replaced from that same deployment, not from the new one (ECS since 2025-11), while fewer
  // than the desired count of the service's tasks count as healthy and maximumPercent leaves
  // room. Tasks the rollout itself stopped are not replaced; the replacements are stopped by the
  // rollout in turn once the new deployment's tasks count. They come before the new deployment's
  // launches, which may be failing.
  if (!failed && primary.rolloutState === "IN_PROGRESS" && older.length > 0) {
    const since = primary.createdAt;
    const startingOld = input.tasks.filter((t) => live(t) && !ofPrimary(t) && t.lastStatus !== "RUNNING").length;
    let short = desired - countedNow - startingOld - input.pendingSlots.filter((p) => p.deploymentId !== primary.id).length;
    for (const d of older) {
      if (short <= 0) break;
      if (d.rolloutState === "FAILED") continue;
      const mine = input.tasks.filter((t) => t.deploymentId === d.id);
      const lostSince = mine.filter((t) => t.lastStatus === "STOPPED" && (t.stoppedAt ?? 0) >= since && !scaledAway(t)).length;
      const replaced =
        mine.filter((t) => t.createdAt >= since).length + input.pendingSlots.filter((p) => p.deploymentId === d.id).length;
      const room = maxTotal - occupying - placedSoFar();
      const count = Math.min(lostSince - replaced, short, room);
      if (count > 0 && !throttled(mine)) {
        plan.place.push({ deploymentId: d.id, count });
        short -= count;
      }
    }
  }

  // 1b. Scale the primary deployment up, within maximumPercent while other tasks still occupy.
  let placed = 0;
  const have = primaryKept.length + inFlight;
  if (!failed && have < desired) {
    const room =
      leaving.length > 0 || sick.length > 0 || occupying > desired || plan.place.length > 0
        ? Math.max(0, maxTotal - occupying - placedSoFar())
        : desired - have;
    if (!throttled(input.tasks.filter(ofPrimary))) {
      placed = Math.min(desired - have, room);
      if (placed > 0) plan.place.push({ deploymentId: primary.id, count: placed });
    }
  }
  // 2. Scale the primary down: PENDING tasks first, then the newest.
  if (have > desired) {
    const extra = [...primaryKept]
      .filter((t) => !shielded(t))
      .sort((a, b) => rankForScaleIn(a) - rankForScaleIn(b) || b.createdAt - a.createdAt);
    for (const t of extra.slice(0, have - desired)) stop(t, scaling(primary));
    for (const t of primaryKept) if (shielded(t)) wakeAt(t.protectedUntil as number);
  }
  // 2b. A FAILED deployment (no rollback) launches nothing, and the service goes on with the
  // deployment before it: as ECS does, that deployment replaces its own tasks that stop and is
  // scaled with the desired count, so the service stays at its desired count.
  if (fallback) fallbackToDesired(fallback);

  // 2c. The keeper's unhealthy tasks (ECS since 2023-10): their replacements were placed above,
  // within maximumPercent, and each unhealthy task stops once a replacement counts as healthy.
  // When maximumPercent leaves no room for a replacement and nothing is starting or stopping,
  // unhealthy tasks stop one at a time to make room (they do not count toward
  // minimumHealthyPercent, so stopping them never takes the service below it).
  if (keeper && sick.length > 0) {
    const mine = (t: ServiceTaskView) => t.deploymentId === keeper.id;
    const counted = input.tasks.filter((t) => mine(t) && healthy(t) && !stopping(t) && !isSick(t)).length;
    const bySickness = [...sick].sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    const replaced = Math.min(sick.length, Math.max(0, counted + sick.length - desired));
    for (const t of bySickness.slice(0, replaced)) stop(t, UNHEALTHY_STOP_REASON);
    // Busy: a task starting, stopping, or running but not counted yet (a replacement on its way).
    const busy =
      plan.place.length > 0 ||
      plan.stop.length > 0 ||
      input.pendingSlots.length > 0 ||
      input.tasks.some((t) => occupies(t) && !lost(t) && (t.lastStatus !== "RUNNING" || t.desiredStatus !== "RUNNING" || (!healthy(t) && !isSick(t))));
    if (replaced === 0 && !busy && occupying >= maxTotal) stop(bySickness[0] as ServiceTaskView, UNHEALTHY_STOP_REASON);
  }

  // 3. Stop leaving tasks: those not serving freely; serving ones (healthy, or running without a
  // health check and not counted yet) while the healthy that stay are ≥ minimumHealthy.
  let spare = input.tasks.filter((t) => healthy(t) && !stopping(t)).length - minHealthy;
  const byDeployment = new Map(service.deployments.map((d) => [d.id, d]));
  const rank = (t: ServiceTaskView) => (!serving(t) ? 0 : healthy(t) ? 2 : 1);
  let held = false;
  for (const t of [...leaving].sort((a, b) => rank(a) - rank(b))) {
    if (failed && !moving(t)) continue; // a FAILED rollout without rollback keeps the old tasks serving
    if (shielded(t)) {
      wakeAt(t.protectedUntil as number);
      continue;
    }
    const dep: Deployment = byDeployment.get(t.deploymentId) ?? primary;
    // An older deployment's task on its way up (step 1) stays while the service is short.
    const starting = t.lastStatus !== "RUNNING" && !moving(t) && dep !== primary && dep.rolloutState !== "FAILED";
    if (starting && countedNow < desired) continue;
    if (!serving(t)) stop(t, scaling(dep));
    else if (spare > 0) {
      stop(t, scaling(dep));
      spare--;
    } else held = true;
  }
  // A task held for minimumHealthy may go once a task still waiting to count does.
  if (held)
    for (const t of input.tasks) if (serving(t) && !stopping(t) && !healthy(t)) wakeAt(countsFrom(t));
  const stoppedNow = plan.stop.length;
  if (!failed && have < desired && placed === 0 && stoppedNow === 0 && plan.retryAt === undefined) {
    const waiting = input.tasks.some((t) => occupies(t) && !lost(t) && t.lastStatus !== "RUNNING") || inFlight > 0;
    if (!waiting)
      plan.messages.push({
        key: "deployment-config",
        message: `(service ${name}) was unable to stop or start tasks during a deployment because of the service deployment configuration. Update the minimumHealthyPercent or maximumPercent value and try again.`,
      });
  }

  // 4. Rollout completion, retiring drained deployments, steady state.
  // A rollout completes once the primary's tasks count as healthy (as minimumHealthyPercent counts
  // them: a task that ran for a moment and exited never completes one).
  const primaryServing = primaryKept.filter(serving);
  const primaryHealthy = primaryServing.filter(healthy).length;
  // Another deployment's task still on a host, or one of the primary's still stopping (a scale-in
  // is steady once the task it stopped has stopped, when runningCount is the desired count again).
  const others = input.tasks.some((t) => occupies(t) && !lost(t) && (!ofPrimary(t) || t.desiredStatus === "STOPPED"));
  const settled = primaryHealthy === desired && have === desired && leaving.length === 0 && !others;
  if (!settled && primaryServing.length === desired && have === desired && leaving.length === 0 && !others)
    for (const t of primaryServing) if (!healthy(t)) wakeAt(countsFrom(t));
  if (primary.rolloutState === "IN_PROGRESS" && settled) {
    plan.rollout.push({ deploymentId: primary.id, rolloutState: "COMPLETED", reason: `ECS deployment ${primary.id} completed.` });
    plan.messages.push({ key: "completed", message: `(service ${name}) (deployment ${primary.id}) deployment completed.` });
  }
  // An older deployment goes when nothing of it is left, running, in flight or being placed.
  const keeps = (d: Deployment) =>
    input.tasks.some((t) => t.deploymentId === d.id && occupies(t) && !lost(t)) ||
    input.pendingSlots.some((p) => p.deploymentId === d.id) ||
    plan.place.some((p) => p.deploymentId === d.id);
  for (const d of older) if (!keeps(d)) plan.retire.push(d.id);
  if (settled && plan.place.length === 0 && plan.stop.length === 0)
    plan.messages.push({ key: "steady", message: `(service ${name}) has reached a steady state.` });
  return plan;
}

function daemon(
  input: ReconcileInput,
  plan: Plan,
  primary: Deployment,
  current: (t: ServiceTaskView) => boolean,
  serving: (t: ServiceTaskView) => boolean,
  stop: (t: ServiceTaskView, reason: string) => void,
  scaling: (d: Deployment) => string,
): Plan {
  const eligible = new Set(input.daemonInstances ?? []);
  const byInstance = new Map<string, ServiceTaskView[]>();
  for (const t of input.tasks)
    if (current(t) && t.instanceId) byInstance.set(t.instanceId, [...(byInstance.get(t.instanceId) ?? []), t]);
  const inFlight = new Set(input.pendingSlots.map((s) => s.instanceId));
  const targets: string[] = [];
  for (const id of eligible) {
    const here = byInstance.get(id) ?? [];
    const mine = here.filter((t) => t.deploymentId === primary.id);
    for (const t of mine.slice(1)) stop(t, scaling(primary)); // never two daemon tasks on one instance
    // An older deployment's task is replaced in place: stop it first (daemons run at most 100%).
    for (const t of here.filter((t) => t.deploymentId !== primary.id)) stop(t, scaling(primary));
    if (mine.length === 0 && here.length === 0 && !inFlight.has(id)) targets.push(id);
  }
  for (const [id, tasks] of byInstance) if (!eligible.has(id)) for (const t of tasks) stop(t, scaling(primary));
  if (targets.length > 0) plan.place.push({ deploymentId: primary.id, count: targets.length, instanceIds: targets });
  const settled = [...eligible].every((id) => (byInstance.get(id) ?? []).some((t) => t.deploymentId === primary.id && serving(t)));
  if (settled && primary.rolloutState === "IN_PROGRESS" && plan.stop.length === 0) {
    plan.rollout.push({ deploymentId: primary.id, rolloutState: "COMPLETED", reason: `ECS deployment ${primary.id} completed.` });
  }
  for (const d of input.service.deployments.slice(1))
    if (!input.tasks.some((t) => t.deploymentId === d.id && t.lastStatus !== "STOPPED")) plan.retire.push(d.id);
  if (settled && plan.place.length === 0 && plan.stop.length === 0)
    plan.messages.push({ key: "steady", message: `(service ${input.service.serviceName}) has reached a steady state.` });
  return plan;
}

/** Scale-in order: tasks that are not running yet go first. */
const rankForScaleIn = (t: ServiceTaskView) => (t.lastStatus === "RUNNING" ? 1 : 0);

/** Stopped by the scheduler on purpose: a scale-in, a deployment's replacement, a drain. */
const scaledAway = (t: ServiceTaskView) =>
  t.stopCode === "ServiceSchedulerInitiated" && (t.stoppedReason?.startsWith(SCALING) ?? false);

/** Stopped by the scheduler for failing its container health checks. */
const failedHealth = (t: ServiceTaskView) => t.stopCode === "ServiceSchedulerInitiated" && t.stoppedReason === UNHEALTHY_STOP_REASON;

/**
 * The circuit breaker's failures: tasks of the deployment that stopped on their own (essential
 * container exited, failed to start) or were stopped for failing their health checks (ECS's
 * second stage), counted since the last task that ran stably when resetOnHealthyTask is on.
 */
export function failedTaskCount(d: Pick<Deployment, "id">, tasks: readonly ServiceTaskView[], now: number, resetOnHealthy = true): number {
  const mine = tasks.filter((t) => t.deploymentId === d.id);
  let resetAt = 0;
  if (resetOnHealthy)
    for (const t of mine) {
      if (t.startedAt === undefined) continue;
      const ranFor = (t.stoppedAt ?? now) - t.startedAt;
      const okHealth = !t.hasHealthCheck || t.health === "HEALTHY" || (t.lastStatus === "STOPPED" && !failedHealth(t));
      if (ranFor >= STABLE_RUN_MS && okHealth) resetAt = Math.max(resetAt, t.startedAt + STABLE_RUN_MS);
    }
  return mine.filter((t) => t.lastStatus === "STOPPED" && (FAILURE_CODES.has(t.stopCode) || failedHealth(t)) && (t.stoppedAt ?? 0) > resetAt)
    .length;
}

/**
 * ECS's threshold: BOUNDED_PERCENT (default, 50) is ceil(value% × desired) clamped to [3, 200];
 * UNBOUNDED_PERCENT has no clamp (at least 1); COUNT is the value itself.
 */
export function breakerThreshold(desired: number, t?: { type: "COUNT" | "BOUNDED_PERCENT" | "UNBOUNDED_PERCENT"; value: number }): number {
  const type = t?.type ?? "BOUNDED_PERCENT";
  const value = t?.value ?? 50;
  if (type === "COUNT") return Math.max(1, value);
  const n = Math.ceil((desired * value) / 100);
  return type === "UNBOUNDED_PERCENT" ? Math.max(1, n) : Math.min(200, Math.max(3, n));
}

/**
 * ECS's launch throttle: after THROTTLE_AFTER consecutive tasks that never reached RUNNING, the
 * next launch waits, doubling from THROTTLE_BASE_MS up to MAX_THROTTLE_MS. Derived from the
 * tasks' own timestamps, so a restart reaches the same verdict. Undefined: no throttle.
 */
export function throttleUntil(tasks: readonly ServiceTaskView[], now: number): number | undefined {
  const recent = [...tasks].sort((a, b) => b.createdAt - a.createdAt);
  let n = 0;
  let last = 0;
  for (const t of recent) {
    if (t.startedAt !== undefined || t.lastStatus !== "STOPPED") {
      if (t.startedAt !== undefined) break;
      continue;
    }
    n++;
    last = Math.max(last, t.stoppedAt ?? t.createdAt);
  }
  if (n < THROTTLE_AFTER) return undefined;
  const delay = Math.min(MAX_THROTTLE_MS, THROTTLE_BASE_MS * 2 ** (n - THROTTLE_AFTER));
  return last + delay > now ? last + delay : undefined;
}
