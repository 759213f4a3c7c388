import { parseEventSubject, subjects } from "../../events/names.ts";
import type { LaunchType, PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import type { Reservation } from "../../events/task.events.ts";
import { Placer, place } from "../../machines/placement/place.ts";
import type { InstanceView, TaskDemand } from "../../machines/placement/types.ts";
import type { ApiServices, RequestContext } from "../api/context.ts";
import { invalid } from "../api/errors.ts";
import type { ReadModel } from "./read-model.ts";

export interface Placement {
  instanceArn: string;
  instanceId: string;
  availabilityZone?: string;
}

export interface PlacementRequest<T> {
  count: number;
  reservation: Reservation;
  group: string;
  launchType: LaunchType;
  requiresAttributes: { name: string; value?: string }[];
  constraints: PlacementConstraint[];
  strategies: PlacementStrategy[];
  /** Records the i-th placed task; runs while the cluster's placement lock is held. */
  create: (i: number, placement: Placement) => Promise<T>;
  /** Called once with every placement before any task is created; throwing aborts the batch. */
  record?: (placements: Placement[]) => Promise<void>;
  /** Place exactly one task on each of these instances (DAEMON services). */
  onlyInstances?: string[];
  /** A cluster without instances yields failures instead of an error (the scheduler's case). */
  allowEmptyCluster?: boolean;
}

type Outcome<T> = { tasks: T[]; failures: { arn: string; reason: string; detail?: string }[] };

interface Waiting {
  ctx: RequestContext;
  req: PlacementRequest<unknown>;
  resolve: (o: Outcome<unknown>) => void;
  reject: (err: unknown) => void;
}

/** Per control plane (its placement lock) and cluster: requests waiting to be placed together. */
const waiting = new WeakMap<object, Map<string, Waiting[]>>();
/**
 * Per control plane and cluster: placement's working state, kept between passes (used under the
 * cluster's lock) and dropped once the cluster has placed nothing for PLACER_IDLE_MS. It holds a
 * few bytes per instance for each demand it has seen (at 10,000 instances and ten demands, about
 * 10 MB); the first pass after it was dropped builds it again from the instance views, which a
 * fresh Placer's results equal (a property test of machines/placement).
 */
const placers = new WeakMap<object, Map<string, { placer: Placer; idle: NodeJS.Timeout }>>();
const PLACER_IDLE_MS = 30_000;

function placerFor(s: ApiServices, clusterSubject: string): Placer {
  let byCluster = placers.get(s.placementLock);
  if (!byCluster) {
    byCluster = new Map();
    placers.set(s.placementLock, byCluster);
  }
  const kept = byCluster.get(clusterSubject);
  if (kept) {
    kept.idle.refresh();
    return kept.placer;
  }
  const placer = new Placer();
  const clusters = byCluster;
  const idle = setTimeout(() => clusters.delete(clusterSubject), PLACER_IDLE_MS);
  idle.unref();
  byCluster.set(clusterSubject, { placer, idle });
  return placer;
}

/**
 * Places tasks on a cluster's instances and records them. Placement is pure
 * (machines/placement); this shell reads the instance views from the read model and holds the
 * cluster's lock until the created tasks are in the read model, so the next placement in this
 * process sees their reservations and never overcommits an instance.
 *
 * Group commit: requests that arrive while the cluster's lock is held wait together and are then
 * placed in one pass, one after another as if each had waited its turn (every task sees the ones
 * placed before it), and created concurrently. Under load this turns N placements — each a pass
 * over every instance of the cluster — into one.
 */
export function placeTasks<T>(
  s: ApiServices,
  ctx: RequestContext,
  cluster: { name: string; arn: string; subject: string },
  req: PlacementRequest<T>,
): Promise<Outcome<T>> {
  return new Promise<Outcome<T>>((resolve, reject) => {
    let byCluster = waiting.get(s.placementLock);
    if (!byCluster) {
      byCluster = new Map();
      waiting.set(s.placementLock, byCluster);
    }
    const me: Waiting = { ctx, req: req as PlacementRequest<unknown>, resolve: resolve as Waiting["resolve"], reject };
    const queued = byCluster.get(cluster.subject);
    if (queued) {
      queued.push(me);
      return;
    }
    const group = [me];
    byCluster.set(cluster.subject, group);
    void s.placementLock.run(cluster.subject, async () => {
      // From here on, newcomers form the next group, queued behind this one.
      byCluster.delete(cluster.subject);
      await placeGroup(s, cluster, group);
    });
  });
}

/** Places a group in order: runs of ordinary requests in one pass each; a DAEMON request alone. */
async function placeGroup(s: ApiServices, cluster: { name: string; arn: string; subject: string }, group: Waiting[]) {
  let run: Waiting[] = [];
  for (const w of group) {
    if (w.req.onlyInstances) {
      if (run.length > 0) await settle(run, () => placeRun(s, cluster, run));
      run = [];
      await settle([w], () => placeRun(s, cluster, [w]));
    } else run.push(w);
  }
  if (run.length > 0) await settle(run, () => placeRun(s, cluster, run));
}

async function settle(run: Waiting[], work: () => Promise<void>) {
  try {
    await work();
  } catch (err) {
    for (const w of run) w.reject(err);
  }
}

/** One placement pass over the cluster for `run`, then each request's record and creates. */
async function placeRun(s: ApiServices, cluster: { name: string; arn: string; subject: string }, run: Waiting[]) {
  const started = performance.now();
  const instances = instanceViews(s.model, cluster.subject);
  const anyActive = instances.some((i) => i.status === "ACTIVE" || i.status === "DRAINING");
  const live: Waiting[] = [];
  for (const w of run) {
    if (!w.req.allowEmptyCluster && w.req.launchType === "EC2" && !anyActive)
      w.reject(invalid("No Container Instances were found in your cluster."));
    else live.push(w);
  }
  if (live.length === 0) return;
  // Identical demands share one object, so placement prepares each distinct demand once.
  const demands = new Map<string, TaskDemand>();
  const tasks: TaskDemand[] = [];
  const spans: { from: number; to: number }[] = [];
  for (const w of live) {
    const d = demandOf(w.req);
    const key = JSON.stringify(d);
    const shared = demands.get(key) ?? d;
    demands.set(key, shared);
    const n = Number.isFinite(w.req.count) ? Math.max(0, Math.floor(w.req.count)) : 0;
    spans.push({ from: tasks.length, to: tasks.length + (w.req.onlyInstances ? 0 : n) });
    if (!w.req.onlyInstances) for (let k = 0; k < n; k++) tasks.push(shared);
  }
  const first = live[0] as Waiting;
  const opts = { seed: first.ctx.now, clusterArn: cluster.arn };
  const only = first.req.onlyInstances;
  const results = only
    ? placeOnEach(demands.values().next().value as TaskDemand, only, instances, opts)
    : placerFor(s, cluster.subject).place(tasks, instances, opts);

  await Promise.all(
    live.map(async (w, n) => {
      try {
        const span = spans[n] as { from: number; to: number };
        const mine = only ? results : results.slice(span.from, span.to);
        const failures: Outcome<unknown>["failures"] = [];
        const placed: Placement[] = [];
        for (const r of mine) {
          if ("placed" in r) placed.push(withZone(s.model, cluster.subject, r.placed));
          else failures.push(r.failed);
        }
        if (placed.length > 0) await w.req.record?.(placed);
        const created = await Promise.all(placed.map((p, i) => w.req.create(i, p)));
        s.onPlacement?.({
          launchType: w.req.launchType,
          placed: created.length,
          failures: failures.map((f) => f.reason),
          ms: performance.now() - started,
        });
        w.resolve({ tasks: created, failures });
      } catch (err) {
        w.reject(err);
      }
    }),
  );
}

function demandOf(req: PlacementRequest<unknown>): TaskDemand {
  return {
    cpu: req.reservation.cpu,
    memory: req.reservation.memory,
    ports: req.reservation.ports,
    portsUdp: req.reservation.portsUdp,
    requiresAttributes: req.requiresAttributes,
    group: req.group,
    launchType: req.launchType === "MANAGED_INSTANCES" ? "EC2" : req.launchType,
    constraints: req.constraints,
    strategies: req.strategies,
  };
}

/** DAEMON: one task on each named instance. */
function placeOnEach(demand: TaskDemand, ids: string[], instances: readonly InstanceView[], opts: { seed: number; clusterArn: string }) {
  const byId = new Map(instances.map((v) => [v.id, v]));
  return ids.flatMap((id) => {
    const v = byId.get(id);
    return place({ demand, count: 1 }, v ? [v] : [], opts);
  });
}

/** The placement with the instance's availability zone, read from its aggregate (no scan of the cluster). */
function withZone(model: ReadModel, clusterSubject: string, p: { instanceArn: string; instanceId: string }): Placement {
  const parsed = parseEventSubject(clusterSubject);
  const subject = parsed ? subjects.instance(parsed.region, parsed.ids[0] as string, p.instanceId) : "";
  const az = model.instances.get(subject)?.snapshot.context.attributes.find((a) => a.name === "ecs.availability-zone")?.value;
  return { ...p, ...(az ? { availabilityZone: az } : {}) };
}

/**
 * The placement engine's view of every registered instance of a cluster, in ARN order. Kept
 * current by the read model (instance-views.ts); read it synchronously and do not modify it.
 */
export function instanceViews(model: ReadModel, clusterSubject: string): readonly InstanceView[] {
  return model.views.of(clusterSubject);
}
