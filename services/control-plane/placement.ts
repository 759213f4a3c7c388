import type { LaunchType, PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import type { Reservation } from "../../events/task.events.ts";
import { place } from "../../machines/placement/place.ts";
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

/**
 * Places tasks on a cluster's instances and records them. Placement is pure
 * (machines/placement); this shell builds the instance views from the read model and holds the
 * cluster's lock until the created tasks are in the read model, so the next placement in this
 * process sees their reservations and never overcommits an instance.
 */
export async function placeTasks<T>(
  s: ApiServices,
  ctx: RequestContext,
  cluster: { name: string; arn: string; subject: string },
  req: PlacementRequest<T>,
): Promise<{ tasks: T[]; failures: { arn: string; reason: string; detail?: string }[] }> {
  return s.placementLock.run(cluster.subject, async () => {
    const started = performance.now();
    const instances = instanceViews(s.model, cluster.subject);
    if (!req.allowEmptyCluster && req.launchType === "EC2" && !instances.some((i) => i.status === "ACTIVE" || i.status === "DRAINING"))
      throw invalid("No Container Instances were found in your cluster.");
    const demand: TaskDemand = {
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
    const opts = { seed: ctx.now, clusterArn: cluster.arn };
    const results = req.onlyInstances
      ? req.onlyInstances.flatMap((id) => place({ demand, count: 1 }, instances.filter((v) => v.id === id), opts))
      : place({ demand, count: req.count }, instances, opts);
    const failures: { arn: string; reason: string; detail?: string }[] = [];
    const placed: { i: number; placement: Placement }[] = [];
    results.forEach((r, i) => {
      if ("placed" in r) {
        const view = instances.find((v) => v.id === r.placed.instanceId);
        const az = view?.attributes["ecs.availability-zone"] ?? undefined;
        placed.push({ i, placement: { ...r.placed, ...(az ? { availabilityZone: az } : {}) } });
      } else failures.push(r.failed);
    });
    if (placed.length > 0) await req.record?.(placed.map((p) => p.placement));
    const tasks = await Promise.all(placed.map((p, n) => req.create(n, p.placement)));
    s.onPlacement?.({ launchType: req.launchType, placed: tasks.length, failures: failures.map((f) => f.reason), ms: performance.now() - started });
    return { tasks, failures };
  });
}

/** The placement engine's view of every registered instance of a cluster. */
export function instanceViews(model: ReadModel, clusterSubject: string): InstanceView[] {
  const out: InstanceView[] = [];
  for (const subject of model.instancesByCluster.get(clusterSubject) ?? []) {
    const agg = model.instances.get(subject);
    if (!agg) continue;
    const i = agg.snapshot.context;
    const status = agg.snapshot.value as InstanceView["status"];
    if (status === "INACTIVE" || (status as string) === "NEW") continue;
    const usage = model.usage.get(subject);
    const reg = (name: string) => i.registeredResources.find((r) => r.name === name);
    const attributes: Record<string, string | null> = {};
    for (const a of i.attributes) attributes[a.name] = a.value ?? null;
    for (const a of i.customAttributes) attributes[a.name] = a.value ?? null;
    const groups: Record<string, number> = {};
    let running = 0;
    for (const t of model.liveTasksByInstance.get(subject) ?? []) {
      const task = model.tasks.get(t);
      if (!task) continue;
      groups[task.snapshot.context.group] = (groups[task.snapshot.context.group] ?? 0) + 1;
      if (task.snapshot.value === "RUNNING") running++;
    }
    out.push({
      arn: i.containerInstanceArn,
      id: i.instanceId,
      status,
      agentConnected: i.agentConnected,
      attributes,
      ec2InstanceId: i.ec2InstanceId,
      agentVersion: i.versionInfo.agentVersion,
      registeredAt: i.registeredAt,
      runningTasksCount: running,
      remaining: {
        cpu: (reg("CPU")?.integerValue ?? 0) - (usage?.cpu ?? 0),
        memory: (reg("MEMORY")?.integerValue ?? 0) - (usage?.memory ?? 0),
        ports: [...(reg("PORTS")?.stringSetValue ?? []).map(Number), ...(usage?.ports.keys() ?? [])],
        portsUdp: [...(reg("PORTS_UDP")?.stringSetValue ?? []).map(Number), ...(usage?.portsUdp.keys() ?? [])],
      },
      taskGroups: groups,
      capacity: i.capacity,
    });
  }
  return out;
}
