import { setFlagsFromString } from "node:v8";

let applied = false;

/**
 * V8 settings the control plane takes once its read model is rebuilt and it serves. V8 reads
 * these flags at every collection, so setting them then takes effect from the next one; they are
 * process-wide, set once. Not from the start: the start-up replay builds the whole model in
 * seconds, and there the extra work costs the replay rate.
 *
 * - Old space is compacted at every full collection (`--compact-on-every-full-gc`). A task's
 *   context is replaced by a new object at each of its events, so after a burst of placements
 *   the tasks' live objects are scattered over pages mostly holding their dead earlier versions;
 *   V8's own heuristics evacuate at most a few MB per collection, and the rest stayed resident.
 *   100,000 tasks placed on 10,000 simulated instances, half of them in services, in alternating
 *   runs: 1,102–1,103 → 585–675 MB resident after the burst, 592 → 373 MB once V8's memory
 *   reducer has run, for no control-plane CPU per task that the runs could tell apart (0.536–0.594
 *   against 0.523–0.555 ms). The start-up replay would pay about 3 % (89,625–90,861 against
 *   91,551–96,426 events/s at 1,000,000 events), hence once serving.
 * - `berth server --heap-growth PERCENT`: V8 grows old space by PERCENT of what the last full
 *   collection left live instead of by up to four times (its own choice on a machine with memory
 *   to spare), so the heap a burst leaves committed stays closer to what the process holds. A
 *   trade, so not the default: measured before the compaction above, 100,000 tasks resident in
 *   1,063 MB with V8's growth at 0.43–0.47 ms of control-plane CPU per task; 674–677 MB with 50 %
 *   at 0.52–0.62 ms.
 */
export function tuneHeapForServing(o: { growthPercent?: number | undefined } = {}): void {
  if (applied) return;
  applied = true;
  setFlagsFromString("--compact-on-every-full-gc");
  if (o.growthPercent !== undefined) setFlagsFromString(`--heap-growing-percent=${o.growthPercent}`);
}
