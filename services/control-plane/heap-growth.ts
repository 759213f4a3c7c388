import { setFlagsFromString } from "node:v8";

/** Old space grows to this much more than a full collection leaves live (V8's own: up to 300 %). */
export const SERVING_HEAP_GROWTH_PERCENT = 50;

let applied = false;

/**
 * Once the read model is rebuilt and the control plane serves, V8 grows old space by half of what
 * the last full collection left live instead of by up to four times (its choice on a machine with
 * memory to spare, where the heap limit is large). Serving adds what it keeps slowly, so the
 * heap it leaves committed stays close to what it holds: 100,000 tasks placed on 10,000
 * simulated instances left the control plane at 480–500 MB resident instead of 680–750, for
 * 0.35–0.37 ms of its CPU per task against 0.34 (docs/performance.md).
 *
 * Not from the start: the start-up replay builds the whole model in seconds, and there the
 * extra full collections cost a fifth of the replay rate (121,000 → 97,000 events/s at
 * 1,000,000 events). V8 reads the flag at every collection, so setting it later takes effect
 * from the next one; it is process-wide, and set once.
 */
export function settleHeapGrowth(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${SERVING_HEAP_GROWTH_PERCENT}`);
}
