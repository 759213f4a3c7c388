import type { Expr } from "./cql.ts";
import { FILTERS, type Filter, firstFailing, type PreparedDemand, prepareDemand, refreshFixed } from "./filters.ts";
import { FeasibleSet, SlotHeap, compareKeys } from "./ordered.ts";
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
 * Incremental: placing a task changes only the instance it lands on, so each distinct demand
 * keeps, across the tasks of a call, which instances pass its filters (re-evaluated for the
 * charged instance only) and an index that answers "the best instance" without a scan:
 *
 *   no strategy (random)            the k-th feasible instance, k from the seeded PRNG  O(log n)
 *   binpack / spread instanceId     a heap on (scores…, ARN)                            O(log n)
 *   spread attribute, then those    a heap per attribute value; the emptiest value wins O(values · log n)
 *   anything else                   a scan of the feasible instances, as placeByScan
 *
 * Per call that costs O(instances) once per distinct demand instead of per task. The choice is
 * exactly the scan's (placeByScan, the executable specification; a property test holds them equal).
 */
export function place(
  demands: readonly TaskDemand[] | DemandBatch,
  instances: readonly InstanceView[],
  opts: PlaceOptions,
): PlacementResult[] {
  return run(demands, new PlacementState(instances, true), opts);
}

/** The same placements by scanning every instance for every task: the reference `place` is held to. */
export function placeByScan(
  demands: readonly TaskDemand[] | DemandBatch,
  instances: readonly InstanceView[],
  opts: PlaceOptions,
): PlacementResult[] {
  return run(demands, new PlacementState(instances, false), opts);
}

/**
 * Placement that keeps its working state from one call to the next on the same cluster, for a
 * shell that places again and again on thousands of instances: preparing a demand costs a pass
 * over every instance, and most calls change only the few instances they place on.
 *
 * Each call takes the cluster's current views, as the shell's index gives them: the same list
 * object while membership is unchanged, a view object replaced when its instance changed
 * (machines/placement keeps to that contract, as services/control-plane/instance-views.ts does).
 * The state then catches up with the instances whose view changed and with those the last call
 * charged, re-answering every kept demand for just those; anything else (a new list, an instance
 * entering or leaving ACTIVE, new attributes) starts over. The choices are exactly `place()`'s on
 * the same views (test/property/placement.indexed.property.test.ts holds them equal across calls).
 *
 * Not pure in the strict sense (it keeps state), but deterministic: the same calls in the same
 * order give the same results. One instance per cluster, used by one caller at a time.
 */
export class Placer {
  private state: PlacementState | undefined;

  place(demands: readonly TaskDemand[] | DemandBatch, instances: readonly InstanceView[], opts: PlaceOptions): PlacementResult[] {
    if (!this.state?.rebase(instances)) this.state = new PlacementState(instances, true);
    return run(demands, this.state, opts);
  }
}

function run(demands: readonly TaskDemand[] | DemandBatch, state: PlacementState, opts: PlaceOptions): PlacementResult[] {
  const tasks = "demand" in demands ? batch(demands) : demands;
  state.startCall();
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

/** How a demand finds its best instance (see the table at the top). */
type Chooser =
  | { kind: "random" }
  | { kind: "heap"; heap: SlotHeap }
  | { kind: "buckets"; of: Int32Array; counts: Int32Array; heaps: SlotHeap[] }
  | { kind: "scan" };

interface Prepared {
  filters: PreparedDemand;
  rankers: Ranker[];
  /** Per slot: the first filter it fails, FILTERS.length when feasible. */
  stage: Uint8Array;
  feasible: FeasibleSet;
  chooser: Chooser;
}

const ALL = FILTERS.length;
const byArn = (a: InstanceView, b: InstanceView) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0);

function sortedByArn(views: readonly InstanceView[]): boolean {
  for (let i = 1; i < views.length; i++) if ((views[i - 1] as InstanceView).arn > (views[i] as InstanceView).arn) return false;
  return true;
}

/** Demands whose indexes a Placer keeps between calls (each holds a few bytes per instance). */
const KEPT_DEMANDS = 16;
/** Task groups whose counts a Placer keeps before it starts over. */
const KEPT_GROUPS = 64;

/** The working copy of the cluster during a call (and, for a Placer, between calls). The only mutable state in placement. */
class PlacementState {
  /** ACTIVE instances in ARN order; an entry is replaced by a private copy once charged. */
  private readonly slots: InstanceView[];
  private readonly owned: Uint8Array;
  /** Slots charged since the state last caught up with its source. */
  private charged: number[] = [];
  private readonly tally: Tally;
  private readonly parsed = new Map<string, { expr?: Expr; error?: string }>();
  /** Prepared demands by content, least recently used first. */
  private readonly prepared = new Map<string, Prepared>();
  /** The demand objects of the current call, so a demand shared by many tasks is keyed once. */
  private byObject = new Map<TaskDemand, Prepared>();
  /** Bumped when a slot changes: index entries of older versions are stale. */
  private readonly versions: Int32Array;
  private readonly candidates: Int32Array;
  private readonly scratch: Float64Array;
  /** The list the state was built from, each view as last seen, and each instance's slot (-1: not ACTIVE). */
  private readonly source: readonly InstanceView[];
  private readonly seen: InstanceView[];
  private readonly slotOf: Int32Array;
  private readonly sourceOf: Int32Array;

  constructor(
    instances: readonly InstanceView[],
    private readonly indexed: boolean,
  ) {
    this.source = instances;
    this.seen = [...instances];
    const active = instances.map((v, i) => ({ v, i })).filter(({ v }) => v.status === "ACTIVE");
    // The shell passes them in ARN order already; sorting sorted input still compares n times.
    if (!sortedByArn(active.map(({ v }) => v))) active.sort((a, b) => byArn(a.v, b.v));
    this.slots = active.map(({ v }) => v);
    this.slotOf = new Int32Array(instances.length).fill(-1);
    this.sourceOf = new Int32Array(active.length);
    for (const [slot, { i }] of active.entries()) {
      this.slotOf[i] = slot;
      this.sourceOf[slot] = i;
    }
    this.owned = new Uint8Array(this.slots.length);
    this.tally = new Tally(this.slots);
    this.versions = new Int32Array(this.slots.length);
    this.candidates = new Int32Array(this.slots.length);
    this.scratch = new Float64Array(this.slots.length);
  }

  startCall(): void {
    this.byObject = new Map();
  }

  /**
   * Catches up with the cluster's views for another call: false when only starting over can
   * (another list, an instance entering or leaving ACTIVE, changed attributes, too many kept groups).
   */
  rebase(instances: readonly InstanceView[]): boolean {
    if (instances !== this.source || instances.length !== this.seen.length || this.tally.groups > KEPT_GROUPS) return false;
    const changed = new Set(this.charged);
    for (let i = 0; i < instances.length; i++) {
      const v = instances[i] as InstanceView;
      const old = this.seen[i] as InstanceView;
      if (v === old) continue;
      if ((v.status === "ACTIVE") !== (old.status === "ACTIVE") || v.arn !== old.arn || v.attributes !== old.attributes) return false;
      this.seen[i] = v;
      const slot = this.slotOf[i] as number;
      if (slot >= 0) changed.add(slot);
    }
    this.charged = [];
    for (const slot of changed) {
      const v = this.seen[this.sourceOf[slot] as number] as InstanceView;
      this.slots[slot] = v;
      this.owned[slot] = 0;
      this.versions[slot]! += 1;
      this.tally.reset(slot, v);
      for (const p of this.prepared.values()) {
        refreshFixed(p.filters, v, slot);
        this.refresh(p, slot);
      }
    }
    for (const p of this.prepared.values()) this.compact(p);
    return true;
  }

  /** Parsed constraints, rankers and feasibility, once per distinct demand (kept across calls by content). */
  prepare(demand: TaskDemand): Prepared {
    let p = this.byObject.get(demand);
    if (p) return p;
    const key = JSON.stringify(demand);
    p = this.prepared.get(key);
    if (p) {
      // Most recently used last: the first entry is the one to drop.
      this.prepared.delete(key);
      this.prepared.set(key, p);
      this.byObject.set(demand, p);
      return p;
    }
    const filters = prepareDemand(demand, this.slots, this.parsed, this.tally);
    const rankers = rankersFor(demand.strategies, demand.group, this.slots, this.tally);
    const n = this.slots.length;
    const stage = new Uint8Array(n);
    for (let i = 0; i < n; i++) stage[i] = firstFailing(filters, this.slots[i] as InstanceView, i);
    const feasible = new FeasibleSet(n);
    feasible.fill((i) => stage[i] === ALL);
    p = { filters, rankers, stage, feasible, chooser: { kind: "scan" } };
    if (this.indexed) p.chooser = this.chooserFor(p);
    this.prepared.set(key, p);
    this.byObject.set(demand, p);
    if (this.prepared.size > KEPT_DEMANDS) {
      const [oldest] = this.prepared.keys();
      // Never the current call's: its tasks are still being placed with it.
      const dropped = this.prepared.get(oldest as string) as Prepared;
      if (![...this.byObject.values()].includes(dropped)) this.prepared.delete(oldest as string);
    }
    return p;
  }

  /** Drops stale heap entries once they outnumber the current ones (they pile up across calls). */
  private compact(p: Prepared) {
    const c = p.chooser;
    if (c.kind === "heap") c.heap.compactIfStale();
    else if (c.kind === "buckets") for (const h of c.heaps) h.compactIfStale();
  }

  placeOne(p: Prepared, random: () => number, clusterArn: string): PlacementResult {
    if (this.slots.length === 0)
      return {
        failed: {
          arn: clusterArn,
          reason: "NO ACTIVE INSTANCES",
          detail: "no ACTIVE container instance in the cluster",
        },
      };
    if (p.feasible.size === 0) {
      // The closest instance: the first (in ARN order) that got furthest down the filter stack.
      let closest = 0;
      for (let i = 1; i < p.stage.length; i++) if ((p.stage[i] as number) > (p.stage[closest] as number)) closest = i;
      const v = this.slots[closest] as InstanceView;
      const filter = FILTERS[p.stage[closest] as number] as Filter;
      return { failed: { arn: v.arn, reason: filter.reason, detail: filter.detail(p.filters, v) } };
    }
    const chosen = this.choose(p, random);
    const v = this.charge(chosen, p.filters.demand);
    // Only the charged slot changed: re-evaluate it for every demand seen so far.
    this.versions[chosen]! += 1;
    for (const q of this.prepared.values()) this.refresh(q, chosen);
    return { placed: { instanceArn: v.arn, instanceId: v.id } };
  }

  private choose(p: Prepared, random: () => number): number {
    const c = p.chooser;
    switch (c.kind) {
      case "random":
        // As choose(): one candidate is taken without drawing a number.
        return p.feasible.size === 1 ? p.feasible.nth(0) : p.feasible.nth(Math.floor(random() * p.feasible.size));
      case "heap":
        return c.heap.peek();
      case "buckets": {
        let best = -1;
        let bestCount = 0;
        let bestKeys: ArrayLike<number> = [];
        for (let b = 0; b < c.heaps.length; b++) {
          const slot = (c.heaps[b] as SlotHeap).peek();
          if (slot < 0) continue;
          const count = c.counts[b] as number;
          const keys = (c.heaps[b] as SlotHeap).topKeys();
          if (best < 0 || count < bestCount || (count === bestCount && compareKeys(keys, slot, bestKeys, best) < 0)) {
            best = slot;
            bestCount = count;
            bestKeys = keys;
          }
        }
        return best;
      }
      case "scan": {
        let n = 0;
        for (let i = 0; i < p.stage.length; i++) if (p.stage[i] === ALL) this.candidates[n++] = i;
        return choose(this.candidates, n, p.rankers, random, this.scratch);
      }
    }
  }

  private chooserFor(p: Prepared): Chooser {
    const [first, ...rest] = p.rankers;
    if (!first) return { kind: "scan" };
    // choose() returns at the first random ranker, among all feasible candidates.
    if (first.kind === "random") return { kind: "random" };
    const local = (r: Ranker) => r.kind === "score" && r.bucket === undefined;
    const current = (slot: number, version: number) => this.versions[slot] === version && p.feasible.has(slot);
    const feasibleSlots = () => {
      const out: number[] = [];
      for (let i = 0; i < p.stage.length; i++) if (p.stage[i] === ALL) out.push(i);
      return out;
    };
    if (p.rankers.every(local)) {
      const scores = p.rankers.map((r) => (r as Extract<Ranker, { kind: "score" }>).score);
      const heap = new SlotHeap(scores.length, keysInto(scores), current);
      heap.build(feasibleSlots(), (slot) => this.versions[slot] as number);
      return { kind: "heap", heap };
    }
    if (first.kind === "score" && first.bucket && rest.every(local)) {
      const scores = rest.map((r) => (r as Extract<Ranker, { kind: "score" }>).score);
      const { of, counts } = first.bucket;
      const heaps = Array.from({ length: counts.length }, () => new SlotHeap(scores.length, keysInto(scores), current));
      const bySlotBucket: number[][] = heaps.map(() => []);
      for (const slot of feasibleSlots()) bySlotBucket[of[slot] as number]?.push(slot);
      heaps.forEach((h, b) => {
        h.build(bySlotBucket[b] as number[], (slot) => this.versions[slot] as number);
      });
      return { kind: "buckets", of, counts, heaps };
    }
    return { kind: "scan" };
  }

  /** The slot was charged: its feasibility and scores for `p` may have changed. */
  private refresh(p: Prepared, slot: number) {
    const stage = firstFailing(p.filters, this.slots[slot] as InstanceView, slot);
    p.stage[slot] = stage;
    p.feasible.set(slot, stage === ALL);
    if (stage !== ALL) return;
    const c = p.chooser;
    const version = this.versions[slot] as number;
    if (c.kind === "heap") c.heap.push(slot, version);
    else if (c.kind === "buckets") c.heaps[c.of[slot] as number]?.push(slot, version);
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
      this.charged.push(i);
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

/** A SlotHeap's key writer for these score functions: a slot's scores, in order, from `at`. */
function keysInto(scores: readonly ((slot: number) => number)[]) {
  return (slot: number, out: Float64Array, at: number) => {
    for (let k = 0; k < scores.length; k++) out[at + k] = (scores[k] as (slot: number) => number)(slot);
  };
}
