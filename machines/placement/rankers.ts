import type { PlacementStrategy } from "../../events/shapes.ts";
import type { Tally } from "./tally.ts";
import type { InstanceView } from "./types.ts";

/**
 * Ranking: among feasible instances, which one? Each placement strategy becomes a ranker that
 * scores a candidate (lower is better). Strategies apply in order: the first keeps only its
 * best-scoring candidates, the next chooses among those, and so on (ECS: "spread AZ, then binpack
 * memory within the AZ"). `random` picks one of the remaining candidates with the seeded PRNG.
 * After the explicit strategies, ties go to the instance with the fewest tasks of the group,
 * then to the lowest ARN, so the result never depends on input order.
 */

/** Lower is better. Reads the working state (views, tally), so it sees tasks placed earlier in the batch. */
export type Score = (slot: number) => number;
export type Ranker =
  | {
      kind: "score";
      why: string;
      score: Score;
      /**
       * Set when the score is a count shared by every slot of a bucket (spread over an attribute):
       * `counts[of[slot]]`. Otherwise a slot's score changes only when a task lands on that slot.
       */
      bucket?: { of: Int32Array; counts: Int32Array };
    }
  | { kind: "random" };

/** mulberry32: a small, well-mixed 32-bit PRNG. The only source of randomness in placement. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANDOM: Ranker = { kind: "random" };

/**
 * The ranker for one strategy, or undefined for a strategy the API edge should have refused
 * (unknown type or field), which is then skipped.
 */
export function rankerFor(
  s: PlacementStrategy,
  group: string,
  slots: readonly InstanceView[],
  tally: Tally,
): Ranker | undefined {
  const field = s.field ?? "";
  switch (s.type) {
    case "random":
      return RANDOM;
    case "binpack":
      // Least remaining that fits: fills instances up, leaving others whole for big tasks.
      if (field.toLowerCase() === "cpu")
        return { kind: "score", why: "binpack cpu", score: (i) => (slots[i] as InstanceView).remaining.cpu };
      if (field.toLowerCase() === "memory")
        return { kind: "score", why: "binpack memory", score: (i) => (slots[i] as InstanceView).remaining.memory };
      return undefined;
    case "spread": {
      const lower = field.toLowerCase();
      if (lower === "instanceid" || lower === "host") return spreadInstances(group, tally);
      if (!lower.startsWith("attribute:") || field.length === "attribute:".length) return undefined;
      // Fewest tasks of the group in the candidate's bucket (its AZ, rack, …) evens the buckets out.
      const { bucketOf, counts } = tally.byAttribute(group, field.slice("attribute:".length));
      return {
        kind: "score",
        why: `spread ${field}`,
        score: (i) => counts[bucketOf[i] as number] as number,
        bucket: { of: bucketOf, counts },
      };
    }
    default:
      return undefined;
  }
}

/** Fewest tasks of the group on the instance itself. Also the implicit last tie-break. */
export function spreadInstances(group: string, tally: Tally): Ranker {
  const onSlots = tally.onSlots(group);
  return { kind: "score", why: "spread instanceId", score: (i) => onSlots[i] as number };
}

/**
 * The rankers for a demand: its strategies in order, then the implicit tie-breaks. No strategy
 * at all means random (RunTask's behaviour; services pass their AZ spread explicitly).
 */
export function rankersFor(
  strategies: readonly PlacementStrategy[],
  group: string,
  slots: readonly InstanceView[],
  tally: Tally,
): Ranker[] {
  if (strategies.length === 0) return [RANDOM];
  const explicit = strategies.flatMap((s) => rankerFor(s, group, slots, tally) ?? []);
  return [...explicit, spreadInstances(group, tally)];
}

/**
 * Picks one slot from `candidates[0..n)` (ascending slot order, i.e. ARN order). Reorders
 * `candidates` in place: it and `scratch` are the caller's reusable buffers, so a choice
 * allocates nothing per candidate.
 */
export function choose(
  candidates: Int32Array,
  n: number,
  rankers: readonly Ranker[],
  random: () => number,
  scratch: Float64Array,
): number {
  for (const r of rankers) {
    if (n === 1) break;
    if (r.kind === "random") return candidates[Math.floor(random() * n)] as number;
    let best = Infinity;
    for (let k = 0; k < n; k++) {
      const s = r.score(candidates[k] as number);
      scratch[k] = s;
      if (s < best) best = s;
    }
    let kept = 0;
    for (let k = 0; k < n; k++) if (scratch[k] === best) candidates[kept++] = candidates[k] as number;
    n = kept;
  }
  return candidates[0] as number;
}
