import { arns, isArn, parseArn, type Scope } from "../../events/arns.ts";
import { subjects } from "../../events/names.ts";
import type { ClusterSnapshot } from "../../machines/cluster/cluster.decide.ts";
import type { Agg } from "../control-plane/read-model.ts";
import type { ApiServices, RequestContext } from "./context.ts";
import { clusterNotFound, invalid } from "./errors.ts";

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

export interface ClusterRef {
  name: string;
  arn: string;
  subject: string;
  agg: Agg<ClusterSnapshot> | undefined;
}

/** Cluster name from a short name or ARN (default `default`); does not require it to exist. */
export function clusterRef(value: string | undefined, ctx: RequestContext, s: ApiServices): ClusterRef {
  let name = value ?? "default";
  if (isArn(name)) {
    const p = parseArn(name);
    // Another region's or account's cluster is not one this endpoint holds.
    if (p?.kind !== "cluster" || p.region !== ctx.region || p.account !== ctx.scope.account) throw clusterNotFound();
    name = p.path[0] as string;
  }
  if (!NAME.test(name)) throw clusterNotFound();
  const subject = subjects.cluster(ctx.region, name);
  return { name, arn: arns.cluster(ctx.scope, name), subject, agg: s.model.clusters.get(subject) };
}

/** An ACTIVE cluster, or ClusterNotFoundException. */
export function activeCluster(value: string | undefined, ctx: RequestContext, s: ApiServices) {
  const { name, arn, subject, agg } = clusterRef(value, ctx, s);
  if (agg?.snapshot.value !== "ACTIVE") throw clusterNotFound();
  return { name, arn, subject, agg };
}

/**
 * A task id from an id or ARN. Accepts the long ARN form (`task/<cluster>/<id>`); the cluster in
 * the ARN must match the request's cluster. Returns null when the value is not a task identifier.
 */
export function taskIdOf(value: string, cluster: string): string | null {
  if (isArn(value)) {
    const p = parseArn(value);
    if (p?.kind !== "task") return null;
    if (p.path.length === 2) return p.path[0] === cluster ? (p.path[1] as string) : null;
    return p.path.length === 1 ? (p.path[0] as string) : null;
  }
  return /^[a-f0-9]{32}$/.test(value) || /^[a-f0-9-]{36}$/.test(value) ? value : null;
}

const ARN_REGION = /^[a-z0-9-]+$/;
const ARN_ACCOUNT = /^\d{12}$/;
const ARN_TASK_ID = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * `taskIdOf` for the many values of one request: the same answers, with a shortcut for the form
 * clients send back, the long ARN of a task of `cluster` in the request's own scope, that skips
 * parsing the ARN. DescribeTasks resolves up to 100 values a request; parsing each cost more than
 * finding and sending the task.
 */
export function taskIdResolver(cluster: string, scope: Scope): (value: string) => string | null {
  // The shortcut agrees with parseArn only where parseArn accepts the prefix itself.
  const usable = ARN_REGION.test(scope.region) && ARN_ACCOUNT.test(scope.account);
  const long = usable ? longTaskArn(arns.task(scope, cluster, "")) : undefined;
  return (value) => long?.exec(value)?.[1] ?? taskIdOf(value, cluster);
}

const longTaskArns = new Map<string, RegExp>();

/**
 * `^<prefix>(<task id>)$`, compiled once per prefix: one match per value is about twice as quick
 * as `startsWith` (slow on a 50-character prefix) and a test of the rest. Clusters are few; the
 * memo is emptied if a caller names thousands of them.
 */
function longTaskArn(prefix: string): RegExp {
  let re = longTaskArns.get(prefix);
  if (!re) {
    if (longTaskArns.size >= 1000) longTaskArns.clear();
    re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(${ARN_TASK_ID.source.slice(1, -1)})$`);
    longTaskArns.set(prefix, re);
  }
  return re;
}

export function instanceIdOf(value: string, cluster: string): string | null {
  if (isArn(value)) {
    const p = parseArn(value);
    if (p?.kind !== "container-instance") return null;
    if (p.path.length === 2) return p.path[0] === cluster ? (p.path[1] as string) : null;
    return null;
  }
  return /^[a-f0-9]{32}$/.test(value) ? value : null;
}

export function requireName(value: string, what: string): string {
  if (!NAME.test(value)) throw invalid(`${what} can only contain letters, numbers, hyphens and underscores (1-255 characters).`);
  return value;
}
