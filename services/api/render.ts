import type { Resource } from "../../events/shapes.ts";
import type { ClusterSnapshot } from "../../machines/cluster/cluster.decide.ts";
import type { InstanceSnapshot } from "../../machines/instance/instance.decide.ts";
import type { InstanceContext } from "../../machines/instance/instance.machine.ts";
import type { TaskSnapshot } from "../../machines/task/task.decide.ts";
import { connectivityOf, containerArnOf, taskArnOf } from "../../machines/task/task.spec.ts";
import type { Agg, Usage } from "../control-plane/read-model.ts";

/**
 * Read-model state → ECS response shapes. Timestamps are epoch seconds (JSON numbers); absent
 * members are omitted, never null; string-typed numbers (task cpu/memory, container cpu/memory)
 * are strings, as the ECS model has them.
 */

export const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** Drops undefined members so the JSON has no nulls and no empty keys. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export interface ClusterCounts {
  registeredContainerInstancesCount: number;
  runningTasksCount: number;
  pendingTasksCount: number;
  activeServicesCount: number;
  runningEC2TasksCount: number;
  runningFargateTasksCount: number;
  pendingEC2TasksCount: number;
  pendingFargateTasksCount: number;
  activeEC2ServiceCount: number;
  activeFargateServiceCount: number;
  drainingEC2ServiceCount: number;
  drainingFargateServiceCount: number;
}

export function renderCluster(agg: Agg<ClusterSnapshot>, counts: ClusterCounts, include: ReadonlySet<string>) {
  const c = agg.snapshot.context;
  const statistics = include.has("STATISTICS")
    ? (
        [
          "runningEC2TasksCount",
          "runningFargateTasksCount",
          "pendingEC2TasksCount",
          "pendingFargateTasksCount",
          "activeEC2ServiceCount",
          "activeFargateServiceCount",
          "drainingEC2ServiceCount",
          "drainingFargateServiceCount",
        ] as const
      ).map((name) => ({ name, value: String(counts[name]) }))
    : [];
  return compact({
    clusterArn: c.clusterArn,
    clusterName: c.clusterName,
    ...(include.has("CONFIGURATIONS") && c.configuration ? { configuration: c.configuration } : {}),
    status: agg.snapshot.value === "ACTIVE" ? "ACTIVE" : "INACTIVE",
    registeredContainerInstancesCount: counts.registeredContainerInstancesCount,
    runningTasksCount: counts.runningTasksCount,
    pendingTasksCount: counts.pendingTasksCount,
    activeServicesCount: counts.activeServicesCount,
    statistics,
    tags: include.has("TAGS") ? c.tags : [],
    settings: include.has("SETTINGS") ? (c.settings.length ? c.settings : [{ name: "containerInsights", value: "disabled" }]) : undefined,
    capacityProviders: c.capacityProviders,
    defaultCapacityProviderStrategy: c.defaultCapacityProviderStrategy,
    serviceConnectDefaults: c.serviceConnectDefaults,
    // ECS's attachments are Auto Scaling policies of capacity providers; Berth has none.
    attachments: include.has("ATTACHMENTS") ? [] : undefined,
  });
}

/**
 * A task's DescribeTasks JSON as UTF-8 bytes, rendered once per folded state: the read model
 * replaces a task's Agg on every event, so bytes kept for an Agg stay right (on the Agg itself
 * without tags, the common call; in a weak map with them). Filled on read only, so memory grows
 * with the tasks described, not the tasks held; kept as bytes so an answer is assembled and sent
 * without encoding text again.
 */
const renderedWithTags = new WeakMap<object, Buffer>();

export function renderTaskJson(agg: Agg<TaskSnapshot>, include: ReadonlySet<string>): Buffer {
  if (!include.has("TAGS")) {
    agg.rendered ??= taskBytes(agg, include);
    return agg.rendered;
  }
  let bytes = renderedWithTags.get(agg);
  if (!bytes) {
    bytes = taskBytes(agg, include);
    renderedWithTags.set(agg, bytes);
  }
  return bytes;
}

function taskBytes(agg: Agg<TaskSnapshot>, include: ReadonlySet<string>): Buffer {
  const text = JSON.stringify(renderTask(agg, include));
  // Its own allocation rather than a slice of Node's shared 8 kB buffer pool, which a cached
  // slice would keep alive whole, with whatever short-lived bytes share it.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

/** A task's containers as DescribeTasks shows them. */
function renderTaskContainers(t: TaskSnapshot["context"]) {
  return t.containers.map((c) => ({
    containerArn: containerArnOf(t, c),
    taskArn: taskArnOf(t),
    name: c.name,
    image: c.image,
    imageDigest: c.imageDigest,
    runtimeId: c.runtimeId,
    lastStatus: c.lastStatus,
    exitCode: c.exitCode,
    reason: c.reason,
    networkBindings: c.networkBindings,
    networkInterfaces: c.networkInterfaces,
    healthStatus: c.healthStatus,
    cpu: String(c.cpu),
    memory: c.memory === undefined ? undefined : String(c.memory),
    memoryReservation: c.memoryReservation === undefined ? undefined : String(c.memoryReservation),
  }));
}

/** A task's overrides as DescribeTasks shows them: one entry per container, named. */
function renderTaskOverrides(t: TaskSnapshot["context"]) {
  const overridesByName = new Map((t.overrides.containerOverrides ?? []).map((o) => [o.name, o]));
  return {
    ...t.overrides,
    containerOverrides: t.containers.map((c) => ({ ...overridesByName.get(c.name), name: c.name })),
    inferenceAcceleratorOverrides: t.overrides.inferenceAcceleratorOverrides ?? [],
  };
}

export function renderTask(agg: Agg<TaskSnapshot>, include: ReadonlySet<string>) {
  const t = agg.snapshot.context;
  const link = connectivityOf(t);
  // Absent members stay undefined rather than deleted: JSON leaves them out just the same, and
  // an object whose keys were deleted turns into a slow dictionary for every later read and
  // stringify (a task is rendered for each of its ECS events).
  return {
    attachments: t.attachments,
    attributes: [{ name: "ecs.cpu-architecture", value: "x86_64" }],
    availabilityZone: t.availabilityZone,
    capacityProviderName: t.capacityProviderName,
    clusterArn: t.spec.clusterArn,
    connectivity: link?.connectivity,
    connectivityAt: seconds(link?.connectivityAt),
    containerInstanceArn: t.containerInstanceArn,
    containers: renderTaskContainers(t),
    cpu: t.spec.cpu ?? String(t.reservation.cpu),
    createdAt: seconds(t.createdAt),
    desiredStatus: t.desiredStatus,
    enableExecuteCommand: t.enableExecuteCommand,
    executionStoppedAt: seconds(t.executionStoppedAt),
    group: t.group,
    healthStatus: t.healthStatus,
    lastStatus: agg.snapshot.value,
    // ECS names both: the capacity provider a task was placed with, and its launch type.
    launchType: t.spec.launchType,
    memory: t.spec.memory ?? String(t.reservation.memory),
    overrides: renderTaskOverrides(t),
    platformVersion: t.platformVersion,
    // ECS names the family only for Fargate tasks; Berth's run on Linux.
    platformFamily: t.spec.launchType === "FARGATE" ? "Linux" : undefined,
    pullStartedAt: seconds(t.pullStartedAt),
    pullStoppedAt: seconds(t.pullStoppedAt),
    startedAt: seconds(t.startedAt),
    startedBy: t.startedBy,
    stopCode: t.stopCode,
    stoppedAt: seconds(t.stoppedAt),
    stoppedReason: t.stoppedReason,
    stoppingAt: seconds(t.stoppingAt),
    // ECS always writes the member: the task's tags with include TAGS, else an empty list.
    tags: include.has("TAGS") ? t.tags : [],
    taskArn: taskArnOf(t),
    taskDefinitionArn: t.spec.taskDefinitionArn,
    version: t.version,
    ephemeralStorage: t.spec.launchType === "FARGATE" ? { sizeInGiB: 20 } : undefined,
  };
}

/** ECS emits every numeric member on Resource objects, whatever the type. */
export function resource(name: string, type: Resource["type"], value: number | string[]): Resource {
  return Array.isArray(value)
    ? { name, type, doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: value }
    : {
        name,
        type,
        doubleValue: type === "DOUBLE" ? value : 0,
        longValue: type === "LONG" ? value : 0,
        integerValue: type === "INTEGER" ? value : 0,
      };
}

const numeric = (r: Resource) => r.integerValue ?? r.longValue ?? r.doubleValue ?? 0;

/**
 * Remaining resources: CPU and MEMORY are registered minus what live tasks reserve; PORTS and
 * PORTS_UDP list the ports in use — those reserved at registration plus static host ports taken
 * by tasks (it grows as tasks take ports, as in ECS).
 */
export function remainingResources(registered: readonly Resource[], usage: Usage | undefined): Resource[] {
  return registered.map((r) => {
    switch (r.name) {
      case "CPU":
        return resource("CPU", "INTEGER", numeric(r) - (usage?.cpu ?? 0));
      case "MEMORY":
        return resource("MEMORY", "INTEGER", numeric(r) - (usage?.memory ?? 0));
      case "PORTS":
      case "PORTS_UDP": {
        const used = r.name === "PORTS" ? usage?.ports : usage?.portsUdp;
        const all = new Set([...(r.stringSetValue ?? []), ...[...(used?.keys() ?? [])].map(String)]);
        return resource(r.name, "STRINGSET", [...all]);
      }
      default:
        return r;
    }
  });
}

/**
 * An instance's ECS `version`: one per event of its own, and one per task placed on it or stopped
 * there, which ECS counts as changes of the instance (its remaining resources moved).
 */
export const instanceVersion = (i: { version: number }, usage: Usage | undefined) => i.version + (usage?.changes ?? 0);

/**
 * Rendered lists of the interner's shared lists (instances registered alike share them), one
 * array per list: a listing renders each once, and an ECS event writes its text once
 * (ecs-events.ts). Kept while the list is.
 */
const renderedAgentAttributes = new WeakMap<InstanceContext["attributes"], { name: string; value?: string }[]>();
const renderedRegistered = new WeakMap<readonly Resource[], Resource[]>();

/** The agent's attributes with the custom ones put over them (the custom ones last). */
function describedAttributes(i: InstanceContext) {
  const render = (list: { name: string; value?: string }[]) => list.map((a) => compact({ name: a.name, value: a.value }));
  if (i.customAttributes.length === 0) {
    let out = renderedAgentAttributes.get(i.attributes);
    if (!out) {
      out = render(i.attributes);
      renderedAgentAttributes.set(i.attributes, out);
    }
    return out;
  }
  const custom = new Map(i.customAttributes.map((a) => [a.name, a]));
  return render([...i.attributes.filter((a) => !custom.has(a.name)), ...custom.values()]);
}

function describedRegistered(registered: readonly Resource[]) {
  let out = renderedRegistered.get(registered);
  if (!out) {
    out = registered.map((r) =>
      r.type === "STRINGSET" ? resource(r.name, r.type, r.stringSetValue ?? []) : resource(r.name, r.type, numeric(r)),
    );
    renderedRegistered.set(registered, out);
  }
  return out;
}

/** What DescribeContainerInstances says of an instance that only the instance's own events change. */
export function instanceFacts(agg: Agg<InstanceSnapshot>) {
  const i = agg.snapshot.context;
  return {
    containerInstanceArn: i.containerInstanceArn,
    ec2InstanceId: i.ec2InstanceId,
    status: agg.snapshot.value,
    agentConnected: i.agentConnected,
    registeredAt: seconds(i.registeredAt),
    attachments: [],
  };
}

/**
 * An instance's lists as DescribeContainerInstances gives them: shared with the instances that
 * registered alike, so never modified.
 */
export function instanceLists(i: InstanceContext) {
  return {
    versionInfo: i.versionInfo,
    registeredResources: describedRegistered(i.registeredResources),
    attributes: describedAttributes(i),
  };
}

/**
 * ECS's ContainerInstanceHealthStatus (include CONTAINER_INSTANCE_HEALTH): one check, of the
 * container runtime, as the agent last reported it. With no report, or with the agent
 * disconnected, there is no current data to judge by; `lastUpdated` then is the last heartbeat
 * seen. (A connected agent's beats are not facts of the aggregate, so it has no `lastUpdated`.)
 */
export function instanceHealth(i: InstanceContext) {
  const r = i.runtimeHealth;
  if (!r) return { overallStatus: "INSUFFICIENT_DATA", details: [] };
  if (!i.agentConnected)
    return {
      overallStatus: "INSUFFICIENT_DATA",
      details: [{ type: "CONTAINER_RUNTIME", status: "INSUFFICIENT_DATA", lastUpdated: seconds(i.lastHeartbeatAt) }],
    };
  return {
    overallStatus: r.status,
    details: [{ type: "CONTAINER_RUNTIME", status: r.status, lastStatusChange: seconds(r.changedAt) }],
  };
}

/** What the tasks placed on an instance change of it. */
export function instanceLoad(
  agg: Agg<InstanceSnapshot>,
  usage: Usage | undefined,
  counts: { running: number; pending: number },
) {
  const i = agg.snapshot.context;
  return {
    version: instanceVersion(i, usage),
    remainingResources: remainingResources(i.registeredResources, usage),
    runningTasksCount: counts.running,
    pendingTasksCount: counts.pending,
  };
}

export function renderInstance(
  agg: Agg<InstanceSnapshot>,
  usage: Usage | undefined,
  counts: { running: number; pending: number },
  include: ReadonlySet<string>,
) {
  return compact({
    ...instanceFacts(agg),
    ...instanceLists(agg.snapshot.context),
    ...instanceLoad(agg, usage, counts),
    // As on tasks: the member is always written, empty without include TAGS.
    tags: include.has("TAGS") ? agg.snapshot.context.tags : [],
    healthStatus: include.has("CONTAINER_INSTANCE_HEALTH") ? instanceHealth(agg.snapshot.context) : undefined,
  });
}
