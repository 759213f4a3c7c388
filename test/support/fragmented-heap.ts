/**
 * Run as a child process with --expose-gc (test/integration/heap-tuning.test.ts): fills old space
 * with small objects, drops every other one, and prints old space's committed size (bytes) after
 * full collections — two before tuneHeapForServing, one after — as JSON.
 */
import { getHeapSpaceStatistics } from "node:v8";
import { tuneHeapForServing } from "../../services/control-plane/heap-tuning.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_size ?? 0;

// Held from the global object, so no liveness analysis frees the survivors early.
const objects: ({ id: number; name: string; ports: number[] } | undefined)[] = [];
(globalThis as { kept?: unknown }).kept = objects;
for (let i = 0; i < 300_000; i++) objects.push({ id: i, name: `task-${i}`, ports: [i] });
gc(); // what survives a full collection moves to old space
gc();
for (let i = 0; i < objects.length; i += 2) objects[i] = undefined;
gc();
const fragmented = oldSpace();
gc();
const again = oldSpace();
tuneHeapForServing();
gc();
const tuned = oldSpace();
console.log(JSON.stringify({ fragmented, again, tuned }));
