import { dependsOnTasks, type Expr, evaluate, parseExpression } from "./cql.ts";
import type { Tally } from "./tally.ts";
import type { FailureReason, InstanceView, TaskDemand } from "./types.ts";
import { hasAttribute } from "./view.ts";

/**
 * Feasibility: can this task run on this instance right now? A stack of small filters, each
 * with the ECS failure reason it reports and one line on why it exists. Order matters twice:
 * coarse checks come first, and when no instance passes, the instance that got furthest down
 * the stack is ECS's "closest matching container instance" and its failing filter the reason.
 * Filters only read; they never change the demand or the instance.
 *
 * ECS's algorithm (reference §6.1): status, agent, resources and attributes first, then the
 * placement constraints. Non-ACTIVE instances never get this far (place.ts drops them).
 *
 * A `fixed` filter reads only what placement never changes (capacity, agent, attributes, and
 * memberOf expressions without task:group or runningTasksCount); it is answered once per demand
 * and instance in `prepareDemand`, and per task only the others run. Filter bodies allocate
 * nothing: they run instances × tasks times.
 */

/** A task demand with its constraints parsed and its fixed filters pre-answered per slot. */
export interface PreparedDemand {
  demand: TaskDemand;
  /** memberOf expressions, for failure details; `error` when one does not parse. */
  memberOf: { text: string; expr: Expr | undefined; error?: string }[];
  /** Fixed memberOf expressions (answered in prepareDemand) and the ones placement can change. */
  fixedExprs: Expr[];
  changingExprs: Expr[];
  /** Per slot: the index of the first fixed filter it fails, or FILTERS.length. */
  fixedFailure: Uint8Array;
  /** Indexes of the changing filters that apply to this demand, in stack order. */
  checks: number[];
  /** Indexes of the fixed filters that apply to this demand, in stack order. */
  fixedChecks: number[];
  /** Tasks of the demand's group per slot when distinctInstance applies, else undefined. */
  distinct: Int32Array | undefined;
}

export interface Filter {
  reason: FailureReason;
  /** Why the filter exists, in one line. */
  why: string;
  fixed: boolean;
  /** False when the filter cannot fail for this demand (no ports asked, no constraint), so it is skipped. */
  applies?(d: PreparedDemand): boolean;
  passes(d: PreparedDemand, v: InstanceView, slot: number): boolean;
  /** For the failure's `detail`, called only on the closest instance. */
  detail(d: PreparedDemand, v: InstanceView): string;
}

function noneUsed(want: readonly number[], used: readonly number[]): boolean {
  for (const p of want) if (used.includes(p)) return false;
  return true;
}

function allHold(exprs: readonly Expr[], v: InstanceView): boolean {
  for (const e of exprs) if (!evaluate(e, v)) return false;
  return true;
}

function allPresent(required: TaskDemand["requiresAttributes"], v: InstanceView): boolean {
  for (const r of required) if (!hasAttribute(v, r.name, r.value)) return false;
  return true;
}

const clash = (want: readonly number[], used: readonly number[]) => want.filter((p) => used.includes(p)).join(", ");
const MEMBER_OF = "MemberOf placement constraint unsatisfied.";
const memberOfDetail = (d: PreparedDemand, v: InstanceView) => {
  const failing = d.memberOf.find((m) => !m.expr || !evaluate(m.expr, v));
  return failing?.error ?? `expression not satisfied: ${failing?.text}`;
};

export const FILTERS: readonly Filter[] = [
  {
    reason: "ATTRIBUTE",
    why: "an EC2 task runs on EC2 capacity, an EXTERNAL task on an external instance",
    fixed: true,
    passes: (d, v) => v.capacity.includes(d.demand.launchType),
    detail: (d) => `instance does not offer the ${d.demand.launchType} launch type`,
  },
  {
    reason: "AGENT",
    why: "a disconnected agent would never start the task",
    fixed: true,
    passes: (_, v) => v.agentConnected,
    detail: () => "the container agent is disconnected",
  },
  {
    reason: "ATTRIBUTE",
    why: "the task definition needs capabilities (requiresAttributes) the instance must advertise",
    fixed: true,
    applies: (d) => d.demand.requiresAttributes.length > 0,
    passes: (d, v) => allPresent(d.demand.requiresAttributes, v),
    detail: (d, v) => {
      const missing = d.demand.requiresAttributes.find((r) => !hasAttribute(v, r.name, r.value));
      return `missing attribute ${missing?.name}${missing?.value === undefined ? "" : `=${missing.value}`}`;
    },
  },
  {
    reason: "RESOURCE:CPU",
    why: "CPU units are reserved, never overcommitted",
    fixed: false,
    passes: (d, v) => v.remaining.cpu >= d.demand.cpu,
    detail: (d, v) => `needs ${d.demand.cpu} CPU units, ${v.remaining.cpu} remaining`,
  },
  {
    reason: "RESOURCE:MEMORY",
    why: "memory is reserved, never overcommitted",
    fixed: false,
    passes: (d, v) => v.remaining.memory >= d.demand.memory,
    detail: (d, v) => `needs ${d.demand.memory} MiB of memory, ${v.remaining.memory} remaining`,
  },
  {
    reason: "RESOURCE:PORTS",
    why: "a static TCP host port can be bound by one task only",
    fixed: false,
    applies: (d) => d.demand.ports.length > 0,
    passes: (d, v) => noneUsed(d.demand.ports, v.remaining.ports),
    detail: (d, v) => `TCP port ${clash(d.demand.ports, v.remaining.ports)} already in use`,
  },
  {
    reason: "RESOURCE:PORTS_UDP",
    why: "a static UDP host port can be bound by one task only",
    fixed: false,
    applies: (d) => d.demand.portsUdp.length > 0,
    passes: (d, v) => noneUsed(d.demand.portsUdp, v.remaining.portsUdp),
    detail: (d, v) => `UDP port ${clash(d.demand.portsUdp, v.remaining.portsUdp)} already in use`,
  },
  {
    reason: MEMBER_OF,
    why: "memberOf constraints are binding: the instance must satisfy every expression",
    fixed: true,
    applies: (d) => d.memberOf.length > 0,
    passes: (d, v) => d.memberOf.every((m) => m.expr) && allHold(d.fixedExprs, v),
    detail: memberOfDetail,
  },
  {
    reason: MEMBER_OF,
    why: "task:group and runningTasksCount change as tasks are placed, so these are asked per task",
    fixed: false,
    applies: (d) => d.changingExprs.length > 0,
    passes: (d, v) => allHold(d.changingExprs, v),
    detail: memberOfDetail,
  },
  {
    reason: "DistinctInstance placement constraint unsatisfied.",
    why: "distinctInstance puts each task of the group on a different instance",
    fixed: false,
    applies: (d) => d.distinct !== undefined,
    passes: (d, _, slot) => d.distinct === undefined || d.distinct[slot] === 0,
    detail: (d) => `instance already runs a task of group ${d.demand.group}`,
  },
];

const CHANGING = FILTERS.flatMap((f, k) => (f.fixed ? [] : [k]));
const FIXED = FILTERS.flatMap((f, k) => (f.fixed ? [k] : []));

/** Index of the first filter the instance fails, or FILTERS.length when it is feasible. */
export function firstFailing(d: PreparedDemand, v: InstanceView, slot: number): number {
  const fixedFailure = d.fixedFailure[slot] as number;
  for (const k of d.checks) {
    if (k > fixedFailure) break;
    if (!(FILTERS[k] as Filter).passes(d, v, slot)) return k;
  }
  return fixedFailure;
}

/**
 * Runs the stack over every slot. Writes the feasible slots, ascending, into `out` and returns
 * how many; when there are none, `closest` is the slot that got furthest (the first such in ARN
 * order) and `failed` the filter it failed.
 */
export function scan(
  d: PreparedDemand,
  slots: readonly InstanceView[],
  out: Int32Array,
): { feasible: number; closest: number; failed: number } {
  const all = FILTERS.length;
  let feasible = 0;
  let closest = 0;
  let failed = -1;
  for (let i = 0; i < slots.length; i++) {
    const stage = firstFailing(d, slots[i] as InstanceView, i);
    if (stage === all) out[feasible++] = i;
    else if (stage > failed) {
      failed = stage;
      closest = i;
    }
  }
  return { feasible, closest, failed };
}

/**
 * Parses the demand's constraints and answers its fixed filters for every slot, so each task
 * then runs only the filters placement can change. `parsed` caches expressions by text across
 * demands. An expression that does not parse (the API edge should have refused it) is satisfied
 * by no instance.
 */
export function prepareDemand(
  demand: TaskDemand,
  slots: readonly InstanceView[],
  parsed: Map<string, { expr?: Expr; error?: string }>,
  tally: Tally,
): PreparedDemand {
  const memberOf: PreparedDemand["memberOf"] = [];
  for (const c of demand.constraints) {
    if (c.type !== "memberOf") continue;
    const text = c.expression ?? "";
    let p = parsed.get(text);
    if (!p) {
      const r = parseExpression(text);
      p = r.ok ? { expr: r.expr } : { error: r.rejection.message };
      parsed.set(text, p);
    }
    memberOf.push({ text, expr: p.expr, ...(p.error ? { error: p.error } : {}) });
  }
  const exprs = memberOf.flatMap((m) => (m.expr ? [m.expr] : []));
  const d: PreparedDemand = {
    demand,
    memberOf,
    fixedExprs: exprs.filter((e) => !dependsOnTasks(e)),
    changingExprs: exprs.filter(dependsOnTasks),
    fixedFailure: new Uint8Array(slots.length),
    checks: [],
    fixedChecks: [],
    distinct: demand.constraints.some((c) => c.type === "distinctInstance") ? tally.onSlots(demand.group) : undefined,
  };
  d.checks = CHANGING.filter((k) => (FILTERS[k] as Filter).applies?.(d) ?? true);
  // Only the fixed filters that can fail for this demand run, in stack order (a call places on
  // every instance of the cluster: this loop is most of a small call's cost).
  d.fixedChecks = FIXED.filter((k) => (FILTERS[k] as Filter).applies?.(d) ?? true);
  for (let i = 0; i < slots.length; i++) refreshFixed(d, slots[i] as InstanceView, i);
  return d;
}

/** Answers the demand's fixed filters again for one slot (its instance changed). */
export function refreshFixed(d: PreparedDemand, v: InstanceView, slot: number): void {
  let failed = FILTERS.length;
  for (const k of d.fixedChecks) {
    if (!(FILTERS[k] as Filter).passes(d, v, slot)) {
      failed = k;
      break;
    }
  }
  d.fixedFailure[slot] = failed;
}
