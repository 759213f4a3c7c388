import type { Expr } from "./cql.ts";
import { FILTERS, type Filter, type PreparedDemand, prepareDemand, scan } from "./filters.ts";
import { choose, type Ranker, rankersFor, seededRandom } from "./rankers.ts";
import { Tally } from "./tally.ts";
import type { DemandBatch, InstanceView, PlacementResult, PlaceOptions, TaskDemand } from "./types.ts";

/**
 * Places tasks on container instances, ECS style, one task at a time:
 *
 *   for each task:  feasible = ACTIVE instances passing every filter (filters.ts)
 *                   none     → failed: the closest instance's reason (or NO ACTIVE INSTANCES)
 *                   else     → placed on the best by the strategies (rankers.ts)
 *                              and the working copy of that instance is charged
 *
 * Pure and deterministic: no clock, no Math.random (random comes from `opts.seed`), and
 * instances are taken in ARN order, so the same inputs in any order give the same result.
 * Does not modify its inputs: each instance is copied the first time a task lands on it and only
 * that private copy is charged, so a batch never overcommits CPU, memory or ports and later
 * tasks see earlier ones (spread counts, distinctInstance, task:group, runningTasksCount).
 *
 * Cost: O(tasks × instances) with no allocation per candidate: filters that placement cannot
 * change are answered once per demand and instance (filters.ts), group counts are kept in a
 * Tally, and a demand that failed is not rescanned until something is placed.
 */
export function place(
  demands: readonly TaskDemand[] | DemandBatch,
  instances: readonly InstanceView[],
  opts: PlaceOptions,
): PlacementResult[] {
  const tasks = "demand" in demands ? batch(demands) : demands;
  const state = new PlacementState(instances);
  const random = seededRandom(opts.seed);
  const results: PlacementResult[] = [];
  let lastFailure: { prepared: Prepared; result: PlacementResult } | undefined;
  for (const demand of tasks) {
    const prepared = state.prepare(demand);
    // A failure changes nothing, so the same demand fails the same way until something is placed.
    if (lastFailure?.prepared === prepared) {
      results.push(lastFailure.result);
      continue;
    }
    const result = state.placeOne(prepared, random, opts.clusterArn);
    lastFailure = "failed" in result ? { prepared, result } : undefined;
    results.push(result);
  }
  return results;
}

function batch({ demand, count }: DemandBatch): TaskDemand[] {
  const n = Number.isFinite(count) ? Math.max(0, Math.floor(count)) : 0;
  return Array.from({ length: n }, () => demand);
}

interface Prepared {
  filters: PreparedDemand;
  rankers: Ranker[];
}

const byArn = (a: InstanceView, b: InstanceView) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0);

/** The working copy of the cluster during one call. The only mutable state in placement. */
class PlacementState {
  /** ACTIVE instances in ARN order; an entry is replaced by a private copy once charged. */
  private readonly slots: InstanceView[];
  private readonly owned: Uint8Array;
  private readonly tally: Tally;
  private readonly parsed = new Map<string, { expr?: Expr; error?: string }>();
  private readonly prepared = new Map<TaskDemand, Prepared>();
  private readonly candidates: Int32Array;
  private readonly scratch: Float64Array;

  constructor(instances: readonly InstanceView[]) {
    this.slots = instances.filter((v) => v.status === "ACTIVE").sort(byArn);
    this.owned = new Uint8Array(this.slots.length);
    this.tally = new Tally(this.slots);
    this.candidates = new Int32Array(this.slots.length);
    this.scratch = new Float64Array(this.slots.length);
  }

  /** Parsed constraints and rankers, once per distinct demand object. */
  prepare(demand: TaskDemand): Prepared {
    let p = this.prepared.get(demand);
    if (!p) {
      p = {
        filters: prepareDemand(demand, this.slots, this.parsed, this.tally),
        rankers: rankersFor(demand.strategies, demand.group, this.slots, this.tally),
      };
      this.prepared.set(demand, p);
    }
    return p;
  }

  placeOne({ filters: d, rankers }: Prepared, random: () => number, clusterArn: string): PlacementResult {
    if (this.slots.length === 0)
      return {
        failed: {
          arn: clusterArn,
          reason: "NO ACTIVE INSTANCES",
          detail: "no ACTIVE container instance in the cluster",
        },
      };
    const { feasible, closest, failed } = scan(d, this.slots, this.candidates);
    if (feasible === 0) {
      const v = this.slots[closest] as InstanceView;
      const filter = FILTERS[failed] as Filter;
      return { failed: { arn: v.arn, reason: filter.reason, detail: filter.detail(d, v) } };
    }
    const chosen = choose(this.candidates, feasible, rankers, random, this.scratch);
    const v = this.charge(chosen, d.demand);
    return { placed: { instanceArn: v.arn, instanceId: v.id } };
  }

  /** Reserves the task on the slot's private copy (made on first use; inputs stay untouched). */
  private charge(i: number, d: TaskDemand): InstanceView {
    let v = this.slots[i] as InstanceView;
    if (this.owned[i] === 0) {
      v = {
        ...v,
        remaining: { ...v.remaining, ports: [...v.remaining.ports], portsUdp: [...v.remaining.portsUdp] },
        // Own properties only: a group named "__proto__" must stay a plain key.
        taskGroups: Object.assign(Object.create(null) as Record<string, number>, v.taskGroups),
      };
      this.slots[i] = v;
      this.owned[i] = 1;
    }
    v.remaining.cpu -= d.cpu;
    v.remaining.memory -= d.memory;
    v.remaining.ports.push(...d.ports);
    v.remaining.portsUdp.push(...d.portsUdp);
    v.taskGroups[d.group] = (v.taskGroups[d.group] ?? 0) + 1;
    v.runningTasksCount += 1;
    this.tally.placed(d.group, i);
    return v;
  }
}
