import { describe, expect, test } from "vitest";
import { memoryRow } from "../../services/bench/main.ts";
import type { PlacementRun, Settled } from "../../services/bench/placement.ts";

/** The benchmark's memory row: which reading it judges, and what it says beside it. */

const run = (rssMB: number, settled?: Settled, tasks = 100_000, malloc: PlacementRun["malloc"] = "jemalloc"): PlacementRun => ({
  tasks,
  instances: 10_000,
  seconds: 50,
  tasksPerSecond: tasks / 50,
  latency: { n: tasks, p50: 1, p99: 2, min: 0, max: 3 },
  rssBytes: rssMB * 1e6,
  heapUsedBytes: 400e6,
  ...(settled ? { settled } : {}),
  malloc,
  registerSeconds: 4,
  failures: 0,
  cpu: { server: 1, sim: 1, nats: 1, driver: 1 },
});

const settled = (rssMB: number, reduced = true): Settled => ({
  rssBytes: rssMB * 1e6,
  heapUsedBytes: 200e6,
  afterSeconds: 100,
  reduced,
});

describe("memory row", () => {
  test("every run settled: the settled median is judged, the reading after the load shown beside it", () => {
    const row = memoryRow([run(900, settled(280)), run(700, settled(290)), run(800, settled(310))]);
    expect(row.metric).toContain("settled");
    expect(row.value).toBe("290 MB");
    expect(row.verdict).toBe("met");
    expect(row.comparison).toContain("3 s after the load: RSS 800 MB");
    expect(row.comparison).toContain("C allocator: jemalloc");
  });

  test("says which C allocator the runs had", () => {
    const mixed = memoryRow([run(900, settled(280)), run(700, settled(290), 100_000, "system")]);
    expect(mixed.comparison).toContain("C allocator: jemalloc, system");
    expect(memoryRow([run(700, undefined, 100_000, "system")]).comparison).toContain("C allocator: system");
  });

  test("a settled median at or over the target misses it", () => {
    expect(memoryRow([run(900, settled(350)), run(700, settled(300)), run(800, settled(352))]).verdict).toBe("missed");
  });

  test("a run whose memory reducer never ran: the reading after the load is judged, and the row says why", () => {
    const row = memoryRow([run(900, settled(280)), run(700, settled(650, false)), run(800, settled(290))]);
    expect(row.metric).toContain("3 s after the load");
    expect(row.value).toBe("800 MB");
    expect(row.verdict).toBe("missed");
    expect(row.comparison).toContain("memory reducer had not run");
  });

  test("no wait (quick runs): the reading after the load, not judged below the target's size", () => {
    const row = memoryRow([run(120, undefined, 10_000), run(130, undefined, 10_000), run(125, undefined, 10_000)]);
    expect(row.value).toBe("125 MB");
    expect(row.verdict).toBe("—");
    expect(row.comparison).not.toContain("memory reducer");
    expect(row.comparison).toContain("quick run");
  });
});
