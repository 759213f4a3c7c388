import type { InstanceView } from "./types.ts";
import { attributeValue, groupCount } from "./view.ts";

/**
 * Running counts of a task group's tasks per instance slot and per attribute value, for
 * distinctInstance and spread. Each count is built on first use from the working views
 * (O(instances)) and then kept current by `placed` (O(1) per counter), so filters and rankers
 * read an array instead of a view. Slots are place.ts's ACTIVE instances in ARN order.
 */
export class Tally {
  private readonly perSlot = new Map<string, Int32Array>();
  /** attribute → the bucket (distinct value; absent and valueless are buckets too) of each slot. */
  private readonly bucketOf = new Map<string, Int32Array>();
  private readonly bucketCount = new Map<string, number>();
  /** group → attribute → tasks of the group per bucket. */
  private readonly perBucket = new Map<string, Map<string, Int32Array>>();

  constructor(private readonly slots: readonly InstanceView[]) {}

  /** Tasks of the group on each slot. */
  onSlots(group: string): Int32Array {
    let counts = this.perSlot.get(group);
    if (!counts) {
      counts = new Int32Array(this.slots.length);
      for (let i = 0; i < this.slots.length; i++) counts[i] = groupCount(this.slots[i] as InstanceView, group);
      this.perSlot.set(group, counts);
    }
    return counts;
  }

  /** Each slot's bucket for the attribute, and the group's tasks per bucket. */
  byAttribute(group: string, attribute: string): { bucketOf: Int32Array; counts: Int32Array } {
    const bucketOf = this.buckets(attribute);
    let byGroup = this.perBucket.get(group);
    if (!byGroup) {
      byGroup = new Map();
      this.perBucket.set(group, byGroup);
    }
    let counts = byGroup.get(attribute);
    if (!counts) {
      counts = new Int32Array(this.bucketCount.get(attribute) ?? 0);
      const onSlots = this.onSlots(group);
      for (let i = 0; i < this.slots.length; i++) counts[bucketOf[i] as number]! += onSlots[i] as number;
      byGroup.set(attribute, counts);
    }
    return { bucketOf, counts };
  }

  /** Records one more task of the group on the slot, in every count built so far. */
  placed(group: string, slot: number): void {
    const onSlots = this.perSlot.get(group);
    if (onSlots) onSlots[slot]! += 1;
    for (const [attribute, counts] of this.perBucket.get(group) ?? []) {
      counts[this.bucketOf.get(attribute)?.[slot] as number]! += 1;
    }
  }

  /** Groups counted so far. */
  get groups(): number {
    return this.perSlot.size;
  }

  /** The slot's view was replaced (by the caller, in `slots`): counts its groups' tasks again. */
  reset(slot: number, v: InstanceView): void {
    for (const [group, onSlots] of this.perSlot) {
      const delta = groupCount(v, group) - (onSlots[slot] as number);
      if (delta === 0) continue;
      onSlots[slot]! += delta;
      for (const [attribute, counts] of this.perBucket.get(group) ?? []) {
        counts[this.bucketOf.get(attribute)?.[slot] as number]! += delta;
      }
    }
  }

  private buckets(attribute: string): Int32Array {
    let bucketOf = this.bucketOf.get(attribute);
    if (!bucketOf) {
      const index = new Map<string | null | undefined, number>();
      bucketOf = Int32Array.from(this.slots, (v) => {
        const value = attributeValue(v, attribute);
        let b = index.get(value);
        if (b === undefined) {
          b = index.size;
          index.set(value, b);
        }
        return b;
      });
      this.bucketOf.set(attribute, bucketOf);
      this.bucketCount.set(attribute, index.size);
    }
    return bucketOf;
  }
}
