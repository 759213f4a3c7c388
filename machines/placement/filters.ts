import { dependsOnTasks, type Expr, evaluate, parseExpression } from "./cql.ts";
import type { FailureReason, InstanceView, TaskDemand } from "./types.ts";
import { groupCount, hasAttribute } from "./view.ts";

/**
 * Feasibility: can this task run on this instance right now? A stack of small filters, each
 * with the ECS failure reason it reports and one line on why it exists. Order matters twice:
 * cheap, coarse checks come first, and when no instance passes, the instance that got furthest
 * down the stack is ECS's "closest matching container instance" and its failing filter is the
 * reason. Filters only read; they never change the demand or the instance.
 *
 * ECS's algorithm (reference §6.1): status, agent, resources and attributes first, then the
 * placement constraints. Non-ACTIVE instances never get this far (place.ts drops them).
 */

/** A task demand with its constraints parsed and the placement-independent ones pre-answered. */
export interface PreparedDemand {
  demand: TaskDemand;
  distinct: boolean;
  /** memberOf expressions, for failure details. */
  memberOf: { text: string; expr: Expr | undefined; error?: string }[];
  /** Per slot index: 1 when every memberOf expression that placement cannot change holds. */
  staticOk: Uint8Array;
  /** memberOf expressions over task:group or runningTasksCount, answered per candidate. */
  dynamic: Expr[];
}

export interface Filter {
  reason: FailureReason;
  /** Why the filter exists, in one line. */
  why: string;
  passes(d: PreparedDemand, v: InstanceView, slot: number): boolean;
  /** For the failure's `detail`, called only on the closest instance. */
  detail(d: PreparedDemand, v: InstanceView): string;
}

const clash = (want: readonly number[], used: readonly number[]) => want.filter((p) => used.includes(p));

export const FILTERS: readonly Filter[] = [
  {
    reason: "ATTRIBUTE",
    why: "an EC2 task runs on EC2 capacity, an EXTERNAL task on an external instance",
    passes: (d, v) => v.capacity.includes(d.demand.launchType),
    detail: (d) => `instance does not offer the ${d.demand.launchType} launch type`,
  },
  {
    reason: "AGENT",
    why: "a disconnected agent would never start the task",
    passes: (_, v) => v.agentConnected,
    detail: () => "the container agent is disconnected",
  },
  {
    reason: "ATTRIBUTE",
    why: "the task definition needs capabilities (requiresAttributes) the instance must advertise",
    passes: (d, v) => d.demand.requiresAttributes.every((r) => hasAttribute(v, r.name, r.value)),
    detail: (d, v) => {
      const missing = d.demand.requiresAttributes.find((r) => !hasAttribute(v, r.name, r.value));
      return `missing attribute ${missing?.name}${missing?.value === undefined ? "" : `=${missing.value}`}`;
    },
  },
  {
    reason: "RESOURCE:CPU",
    why: "CPU units are reserved, never overcommitted",
    passes: (d, v) => v.remaining.cpu >= d.demand.cpu,
    detail: (d, v) => `needs ${d.demand.cpu} CPU units, ${v.remaining.cpu} remaining`,
  },
  {
    reason: "RESOURCE:MEMORY",
    why: "memory is reserved, never overcommitted",
    passes: (d, v) => v.remaining.memory >= d.demand.memory,
    detail: (d, v) => `needs ${d.demand.memory} MiB of memory, ${v.remaining.memory} remaining`,
  },
  {
    reason: "RESOURCE:PORTS",
    why: "a static TCP host port can be bound by one task only",
    passes: (d, v) => d.demand.ports.every((p) => !v.remaining.ports.includes(p)),
    detail: (d, v) => `TCP port ${clash(d.demand.ports, v.remaining.ports).join(", ")} already in use`,
  },
  {
    reason: "RESOURCE:PORTS_UDP",
    why: "a static UDP host port can be bound by one task only",
    passes: (d, v) => d.demand.portsUdp.every((p) => !v.remaining.portsUdp.includes(p)),
    detail: (d, v) => `UDP port ${clash(d.demand.portsUdp, v.remaining.portsUdp).join(", ")} already in use`,
  },
  {
    reason: "MemberOf placement constraint unsatisfied.",
    why: "memberOf constraints are binding: the instance must satisfy every expression",
    passes: (d, v, slot) => d.staticOk[slot] === 1 && d.dynamic.every((e) => evaluate(e, v)),
    detail: (d, v) => {
      const failing = d.memberOf.find((m) => !m.expr || !evaluate(m.expr, v));
      return failing?.error ?? `expression not satisfied: ${failing?.text}`;
    },
  },
  {
    reason: "DistinctInstance placement constraint unsatisfied.",
    why: "distinctInstance puts each task of the group on a different instance",
    passes: (d, v) => !d.distinct || groupCount(v, d.demand.group) === 0,
    detail: (d) => `instance already runs a task of group ${d.demand.group}`,
  },
];

/** Index of the first filter the instance fails, or FILTERS.length when it is feasible. */
export function firstFailing(d: PreparedDemand, v: InstanceView, slot: number): number {
  for (let k = 0; k < FILTERS.length; k++) if (!(FILTERS[k] as Filter).passes(d, v, slot)) return k;
  return FILTERS.length;
}

/**
 * Parses the demand's constraints and answers the placement-independent memberOf expressions for
 * every slot once, so each task then costs a table lookup per instance. `parsed` caches
 * expressions by text across demands. An expression that does not parse (the API edge should
 * have refused it) is satisfied by no instance.
 */
export function prepareDemand(
  demand: TaskDemand,
  slots: readonly InstanceView[],
  parsed: Map<string, { expr?: Expr; error?: string }>,
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
  const valid = memberOf.every((m) => m.expr);
  const staticExprs = memberOf.flatMap((m) => (m.expr && !dependsOnTasks(m.expr) ? [m.expr] : []));
  const staticOk = new Uint8Array(slots.length);
  for (let i = 0; valid && i < slots.length; i++)
    staticOk[i] = staticExprs.every((e) => evaluate(e, slots[i] as InstanceView)) ? 1 : 0;
  return {
    demand,
    distinct: demand.constraints.some((c) => c.type === "distinctInstance"),
    memberOf,
    staticOk,
    dynamic: memberOf.flatMap((m) => (m.expr && dependsOnTasks(m.expr) ? [m.expr] : [])),
  };
}
