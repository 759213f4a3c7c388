import { idOf } from "./client.ts";

/**
 * Aligned text tables and the rows the resource commands print. Row builders take loose shapes
 * (the SDK's objects and `berth state`'s rebuilt ones alike), so a timestamp may be a Date, an
 * ISO string or epoch seconds.
 */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export type Time = Date | string | number | undefined;

export function toDate(t: Time): Date | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date) return t;
  const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** "12s ago", "3m ago", "2h ago", "4d ago" relative to `now` (epoch ms); "-" when absent. */
export function ago(t: Time, now: number): string {
  const d = toDate(t);
  if (!d) return "-";
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** `arn:…:task-definition/web:3` → `web:3`. */
export const definitionOf = (arn: string | undefined) => (arn ? (arn.split("/").pop() ?? arn) : "-");

export interface TaskLike {
  taskArn?: string;
  taskDefinitionArn?: string;
  lastStatus?: string;
  desiredStatus?: string;
  healthStatus?: string;
  startedAt?: Time;
  createdAt?: Time;
  containerInstanceArn?: string;
  group?: string;
}

export const TASK_HEADERS = ["TASK", "DEFINITION", "STATUS", "HEALTH", "STARTED", "INSTANCE"] as const;

export function taskRow(t: TaskLike, now: number): string[] {
  return [
    idOf(t.taskArn),
    definitionOf(t.taskDefinitionArn),
    `${t.lastStatus ?? "?"}/${t.desiredStatus ?? "?"}`,
    t.healthStatus ?? "UNKNOWN",
    ago(t.startedAt, now),
    t.containerInstanceArn ? idOf(t.containerInstanceArn) : "-",
  ];
}

/** Newest first, as `docker ps` lists containers. */
export function byNewest<T extends { createdAt?: Time }>(items: T[]): T[] {
  const at = (x: T) => toDate(x.createdAt)?.getTime() ?? 0;
  return [...items].sort((a, b) => at(b) - at(a));
}

export interface DeploymentLike {
  id?: string;
  status?: string;
  taskDefinition?: string;
  desiredCount?: number;
  runningCount?: number;
  pendingCount?: number;
  failedTasks?: number;
  rolloutState?: string;
  rolloutStateReason?: string;
}

export interface ServiceLike {
  serviceName?: string;
  status?: string;
  desiredCount?: number;
  runningCount?: number;
  pendingCount?: number;
  taskDefinition?: string;
  deployments?: DeploymentLike[];
}

export const SERVICE_HEADERS = ["SERVICE", "STATUS", "DESIRED", "RUNNING", "PENDING", "DEPLOYMENTS", "ROLLOUT", "DEFINITION"] as const;

export function serviceRow(s: ServiceLike): string[] {
  const primary = s.deployments?.find((d) => d.status === "PRIMARY");
  return [
    s.serviceName ?? "?",
    s.status ?? "?",
    String(s.desiredCount ?? 0),
    String(s.runningCount ?? 0),
    String(s.pendingCount ?? 0),
    String(s.deployments?.length ?? 0),
    primary?.rolloutState ?? "-",
    definitionOf(s.taskDefinition),
  ];
}

/** One deployment in a line: `PRIMARY web:4 2/3 running, 1 pending, IN_PROGRESS`. */
export function deploymentSummary(d: DeploymentLike): string {
  const parts = [`${d.runningCount ?? 0}/${d.desiredCount ?? 0} running`];
  if (d.pendingCount) parts.push(`${d.pendingCount} pending`);
  if (d.failedTasks) parts.push(`${d.failedTasks} failed`);
  if (d.rolloutState) parts.push(d.rolloutState);
  return `${d.status ?? "?"} ${definitionOf(d.taskDefinition)} ${parts.join(", ")}`;
}

export interface ResourceLike {
  name?: string;
  integerValue?: number;
  longValue?: number;
  doubleValue?: number;
}

export interface InstanceLike {
  containerInstanceArn?: string;
  ec2InstanceId?: string;
  status?: string;
  agentConnected?: boolean;
  remainingResources?: ResourceLike[];
  registeredResources?: ResourceLike[];
  runningTasksCount?: number;
  pendingTasksCount?: number;
}

export const INSTANCE_HEADERS = ["INSTANCE", "STATUS", "AGENT", "CPU FREE", "MEMORY FREE", "RUNNING", "PENDING"] as const;

function amount(list: ResourceLike[] | undefined, name: string): number | undefined {
  const r = list?.find((x) => x.name === name);
  if (!r) return undefined;
  return r.integerValue || r.longValue || r.doubleValue || 0;
}

/** `remaining/registered`, e.g. `1536/2048`. */
function capacity(i: InstanceLike, name: string, unit = ""): string {
  const left = amount(i.remainingResources, name);
  const all = amount(i.registeredResources, name);
  return left === undefined ? "-" : `${left}/${all ?? "?"}${unit}`;
}

export function instanceRow(i: InstanceLike): string[] {
  return [
    idOf(i.containerInstanceArn),
    i.status ?? "?",
    i.agentConnected ? "connected" : "disconnected",
    capacity(i, "CPU"),
    capacity(i, "MEMORY", " MiB"),
    String(i.runningTasksCount ?? 0),
    String(i.pendingTasksCount ?? 0),
  ];
}

export interface ClusterLike {
  clusterName?: string;
  status?: string;
  registeredContainerInstancesCount?: number;
  activeServicesCount?: number;
  runningTasksCount?: number;
  pendingTasksCount?: number;
}

export const CLUSTER_HEADERS = ["CLUSTER", "STATUS", "INSTANCES", "SERVICES", "RUNNING", "PENDING"] as const;

export function clusterRow(c: ClusterLike): string[] {
  return [
    c.clusterName ?? "?",
    c.status ?? "?",
    String(c.registeredContainerInstancesCount ?? 0),
    String(c.activeServicesCount ?? 0),
    String(c.runningTasksCount ?? 0),
    String(c.pendingTasksCount ?? 0),
  ];
}
