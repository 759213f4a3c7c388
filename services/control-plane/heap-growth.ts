import { setFlagsFromString } from "node:v8";

let applied = false;

/**
 * `berth server --heap-growth PERCENT`: once the read model is rebuilt and the control plane
 * serves, V8 grows old space by PERCENT of what the last full collection left live instead of by
 * up to four times (its own choice on a machine with memory to spare, where the heap limit is
 * large), so the heap a burst leaves committed stays closer to what the process holds.
 *
 * A trade, so not the default. 100,000 tasks placed on 10,000 simulated instances, half of them
 * in services, in alternating runs: V8's growth 1,063 MB resident at 0.43–0.47 ms of control-plane
 * CPU per task; 100 % 728–750 MB at 0.53–0.58 ms; 50 % 674–677 MB at 0.52–0.62 ms (with only
 * RunTask: 678–752 → 482–499 MB at 0.34 → 0.35–0.37 ms). Not from the start either: the start-up
 * replay builds the whole model in seconds, and there the extra full collections cost a fifth of
 * the replay rate (121,000 → 97,000 events/s at 1,000,000 events). V8 reads the flag at every
 * collection, so setting it later takes effect from the next one; it is process-wide, set once.
 */
export function settleHeapGrowth(percent: number): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
