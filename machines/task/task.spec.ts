import { arns, parseArn } from "../../events/arns.ts";
import type { KeyValuePair, LaunchType, TaskOverride } from "../../events/shapes.ts";
import type { Reservation, TaskRuntimeSpec, TaskSpec } from "../../events/task.events.ts";
import type { ContainerDefinition, TaskDefinitionRevision } from "../../events/taskdef.shapes.ts";
import type { Rejection } from "../decider.ts";

/**
 * Resolving a task from its definition and the run's overrides (pure). ECS rules:
 *  - a container override replaces command, cpu, memory, memoryReservation when given and
 *    merges environment by name (override wins);
 *  - task-level cpu/memory overrides replace the definition's;
 *  - an override naming a container the definition does not have is an error.
 */
export function applyOverrides(
  containers: readonly ContainerDefinition[],
  overrides: TaskOverride,
): { ok: true; containers: ContainerDefinition[] } | { ok: false; rejection: Rejection } {
  const byName = new Map(containers.map((c) => [c.name, c]));
  for (const o of overrides.containerOverrides ?? []) {
    if (!o.name || !byName.has(o.name))
      return {
        ok: false,
        rejection: {
          code: "InvalidParameterException",
          message: `Override for container named ${o.name ?? "(none)"} is not a container in the TaskDefinition.`,
        },
      };
  }
  const out = containers.map((c) => {
    const o = overrides.containerOverrides?.find((x) => x.name === c.name);
    if (!o) return c;
    const next: ContainerDefinition = { ...c };
    if (o.command) next.command = o.command;
    if (o.cpu !== undefined) next.cpu = o.cpu;
    if (o.memory !== undefined) next.memory = o.memory;
    if (o.memoryReservation !== undefined) next.memoryReservation = o.memoryReservation;
    if (o.environment) next.environment = mergeEnvironment(c.environment ?? [], o.environment);
    return next;
  });
  return { ok: true, containers: out };
}

function mergeEnvironment(base: readonly KeyValuePair[], extra: readonly KeyValuePair[]): KeyValuePair[] {
  const m = new Map(base.map((e) => [e.name, e]));
  for (const e of extra) m.set(e.name, e);
  return [...m.values()];
}

/**
 * What a task reserves on its instance: task-level cpu/memory when set, otherwise the sums over
 * containers of cpu and of memoryReservation (or memory when no reservation is set). Static host
 * ports are reserved in bridge and host modes; dynamic ports (0/absent) and awsvpc tasks take none.
 */
export function reservationOf(
  spec: Pick<TaskRuntimeSpec, "cpu" | "memory" | "networkMode" | "containers">,
): Reservation {
  const cpu = spec.cpu !== undefined ? Number(spec.cpu) : spec.containers.reduce((n, c) => n + (c.cpu ?? 0), 0);
  const memory =
    spec.memory !== undefined
      ? Number(spec.memory)
      : spec.containers.reduce((n, c) => n + (c.memoryReservation ?? c.memory ?? 0), 0);
  const ports: number[] = [];
  const portsUdp: number[] = [];
  if (spec.networkMode === "bridge" || spec.networkMode === "host") {
    for (const c of spec.containers)
      for (const p of c.portMappings ?? []) {
        const host = spec.networkMode === "host" ? (p.hostPort ?? p.containerPort) : p.hostPort;
        if (!host) continue;
        (p.protocol === "udp" ? portsUdp : ports).push(host);
      }
  }
  return { cpu, memory, ports, portsUdp };
}

export interface NewTaskInput {
  taskArn: string;
  taskId: string;
  clusterArn: string;
  cluster: string;
  definition: TaskDefinitionRevision;
  overrides: TaskOverride;
  launchType: LaunchType;
}

/** The self-contained spec an agent runs; null with a rejection when the overrides are invalid. */
export function runtimeSpec(
  input: NewTaskInput,
): { ok: true; spec: TaskRuntimeSpec } | { ok: false; rejection: Rejection } {
  const d = input.definition;
  const applied = applyOverrides(d.containerDefinitions, input.overrides);
  if (!applied.ok) return applied;
  return {
    ok: true,
    spec: {
      taskArn: input.taskArn,
      taskId: input.taskId,
      clusterArn: input.clusterArn,
      cluster: input.cluster,
      taskDefinitionArn: d.taskDefinitionArn,
      family: d.family,
      revision: d.revision,
      launchType: input.launchType,
      networkMode: d.networkMode ?? "bridge",
      cpu: input.overrides.cpu ?? d.cpu,
      memory: input.overrides.memory ?? d.memory,
      pidMode: d.pidMode,
      ipcMode: d.ipcMode,
      volumes: d.volumes,
      containers: applied.containers,
    },
  };
}

/**
 * The runtime spec without the task's ARN and id, one object for every task whose spec is
 * otherwise the same: a folded task keeps this (its context has the ARN and id), and a control
 * plane holding 100,000 tasks holds a few specs instead of 100,000 (112 bytes each). Tasks are
 * known to share when their container and volume lists are the same objects (the read model
 * shares equal ones, intern.ts) and every other field is equal; otherwise each gets its own copy,
 * equally correct. Specs are never modified, so sharing is invisible to readers.
 */
export function taskSpecOf(spec: TaskRuntimeSpec): TaskSpec {
  const own: { [K in keyof Required<TaskSpec>]: TaskSpec[K] } = {
    clusterArn: spec.clusterArn,
    cluster: spec.cluster,
    taskDefinitionArn: spec.taskDefinitionArn,
    family: spec.family,
    revision: spec.revision,
    launchType: spec.launchType,
    networkMode: spec.networkMode,
    cpu: spec.cpu,
    memory: spec.memory,
    pidMode: spec.pidMode,
    ipcMode: spec.ipcMode,
    volumes: spec.volumes,
    containers: spec.containers,
  };
  let byVolumes = sharedSpecs.get(spec.containers);
  if (!byVolumes) {
    byVolumes = new WeakMap();
    sharedSpecs.set(spec.containers, byVolumes);
  }
  let byFields = byVolumes.get(spec.volumes);
  if (!byFields) {
    byFields = new Map();
    byVolumes.set(spec.volumes, byFields);
  }
  // Every field but the two lists, in the literal's order (a field added to the spec joins the key).
  let key = "";
  for (const name in own)
    if (name !== "containers" && name !== "volumes") key += `${own[name as keyof TaskSpec]}\u0000`;
  const known = byFields.get(key);
  if (known) return known;
  if (byFields.size >= MAX_SHARED_SPECS) byFields.clear();
  byFields.set(key, own);
  return own;
}

/**
 * ECS's long ARNs of a cluster's tasks and containers (events/arns.ts), by the cluster's ARN: the
 * region, account and cluster name are read from it once per cluster. A cluster ARN that is not
 * an ECS one gives a prefix no ARN Berth makes starts with, so its tasks keep their ARNs whole.
 */
const taskPrefixes = new Map<string, string>();
const containerPrefixes = new Map<string, string>();

function arnPrefix(memo: Map<string, string>, clusterArn: string, of: typeof arns.taskPrefix): string {
  let prefix = memo.get(clusterArn);
  if (prefix === undefined) {
    const parsed = parseArn(clusterArn);
    prefix = parsed?.kind === "cluster" ? of(parsed, parsed.path.join("/")) : `${clusterArn}#`;
    memo.set(clusterArn, prefix);
  }
  return prefix;
}

export const taskArnPrefix = (clusterArn: string) => arnPrefix(taskPrefixes, clusterArn, arns.taskPrefix);
const containerArnPrefix = (clusterArn: string) => arnPrefix(containerPrefixes, clusterArn, arns.containerPrefix);

/** The task's ARN. */
export const taskArnOf = (t: { arn?: string; taskId: string; spec: Pick<TaskSpec, "clusterArn"> }): string =>
  t.arn ?? taskArnPrefix(t.spec.clusterArn) + t.taskId;

/** The ARN of one of the task's containers. */
export const containerArnOf = (
  t: { taskId: string; spec: Pick<TaskSpec, "clusterArn"> },
  c: { arn?: string; containerId: string },
): string => c.arn ?? `${containerArnPrefix(t.spec.clusterArn)}${t.taskId}/${c.containerId}`;

/**
 * ECS's connectivity: a task placed on a container instance is CONNECTED from its creation, before
 * its image is pulled, and stays so once stopped (connectivityAt is createdAt, as ECS shows it for
 * a task on an instance, one that failed to start included).
 */
export const connectivityOf = (t: { containerInstanceArn?: string; createdAt: number }) =>
  t.containerInstanceArn === undefined ? undefined : { connectivity: "CONNECTED" as const, connectivityAt: t.createdAt };

/** Shared specs by container list, then volume list, then the other fields. */
const sharedSpecs = new WeakMap<object, WeakMap<object, Map<string, TaskSpec>>>();
const MAX_SHARED_SPECS = 1_000;

/** The runtime spec an agent runs a task from: the shared spec with the task's ARN and id. */
export function runtimeSpecOf(t: { arn?: string; taskId: string; spec: TaskSpec }): TaskRuntimeSpec {
  return { taskArn: taskArnOf(t), taskId: t.taskId, ...t.spec };
}
