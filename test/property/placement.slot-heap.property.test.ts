import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SlotHeap } from "../../machines/placement/ordered.ts";

/**
 * SlotHeap against a model: slots with keys that change (each change pushes a new version, the
 * old entry goes stale; bursts of them grow the arrays), compactions at any point (with no slack,
 * so they happen and shrink the arrays), and peeks that must always give the slot with the least
 * current keys, ties to the lower slot.
 */

const SLOTS = 8;
const WIDTH = 2;

type Op =
  | { kind: "change"; slot: number; keys: [number, number]; times: number }
  | { kind: "drop"; slot: number }
  | { kind: "compact" }
  | { kind: "peek" };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("change" as const),
      slot: fc.nat(SLOTS - 1),
      keys: fc.tuple(fc.integer({ min: -3, max: 3 }), fc.double({ min: -1, max: 1, noNaN: true })),
      // Pushed this many times (a new version each): the heap grows past its arrays.
      times: fc.integer({ min: 1, max: 80 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), slot: fc.nat(SLOTS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "compact" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "peek" as const }) },
);

describe("SlotHeap", () => {
  test("peek gives the least current entry through changes, stale entries and compactions", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const keys = Array.from({ length: SLOTS }, (_, s) => [s % 3, 0] as [number, number]);
        const version = new Int32Array(SLOTS);
        const present = new Uint8Array(SLOTS).fill(1);
        const heap = new SlotHeap(
          WIDTH,
          (slot, out, at) => {
            out[at] = (keys[slot] as [number, number])[0];
            out[at + 1] = (keys[slot] as [number, number])[1];
          },
          (slot, v) => present[slot] === 1 && version[slot] === v,
        );
        heap.build(
          Array.from({ length: SLOTS }, (_, s) => s),
          (s) => version[s] as number,
        );
        const best = () => {
          let b = -1;
          for (let s = 0; s < SLOTS; s++) {
            if (!present[s]) continue;
            const k = keys[s] as [number, number];
            const bk = keys[b] as [number, number] | undefined;
            if (!bk || k[0] < bk[0] || (k[0] === bk[0] && k[1] < bk[1])) b = s;
          }
          return b;
        };
        for (const o of ops) {
          if (o.kind === "change") {
            keys[o.slot] = o.keys;
            present[o.slot] = 1;
            for (let t = 0; t < o.times; t++) {
              version[o.slot]! += 1;
              heap.push(o.slot, version[o.slot] as number);
            }
          } else if (o.kind === "drop") {
            present[o.slot] = 0;
          } else if (o.kind === "compact") {
            heap.compactIfStale(0);
          } else {
            const slot = heap.peek();
            expect(slot).toBe(best());
            if (slot >= 0) expect([...heap.topKeys()]).toEqual(keys[slot]);
          }
        }
        expect(heap.peek()).toBe(best());
      }),
      { numRuns: 300 },
    );
  });
});
