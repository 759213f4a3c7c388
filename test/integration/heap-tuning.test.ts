import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { REPO_ROOT } from "../support/processes.ts";

/**
 * tuneHeapForServing (services/control-plane/heap-tuning.ts) in a real V8: old space left half
 * empty by objects that died among survivors stays committed through V8's own full collections,
 * and is given back at the first one after the tuning.
 */
describe("heap tuning once serving", () => {
  test("a full collection after it compacts a fragmented old space", () => {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--max-semi-space-size=1", "--import", "tsx", "test/support/fragmented-heap.ts"],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    const { fragmented, again, tuned } = JSON.parse(out.trim().split("\n").at(-1) as string) as {
      fragmented: number;
      again: number;
      tuned: number;
    };
    // 300,000 small objects fill ~45 MB of old space; half of them die in place. V8's own full
    // collections give back a tenth at most (its heuristics evacuate a few pages); the one after
    // the tuning leaves little more than the survivors (~55 % here).
    expect(fragmented).toBeGreaterThan(30e6);
    expect(again).toBeGreaterThan(fragmented * 0.8);
    expect(tuned).toBeLessThan(fragmented * 0.65);
  });
});
