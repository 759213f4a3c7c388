import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import { place } from "../../machines/placement/place.ts";
import type { InstanceView, PlacementResult, TaskDemand } from "../../machines/placement/types.ts";
import { CLUSTER, deepFreeze, demand, instance } from "../unit/placement.fixtures.ts";

/**
 * Small worlds: a few instances, a few demands, up to a few dozen tasks. Seconds, not minutes.
 * Resources come in coarse units, sometimes one short, so exact fits and near misses are common.
 */
const RUNS = { numRuns: 150 };
const GROUPS = ["family:web", "service:api", "family:batch"];
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];
const TCP = [80, 443, 8080, 9000];
const UDP = [53, 123];

const subset = (pool: number[]) => fc.subarray(pool);
const strategy: fc.Arbitrary<PlacementStrategy> = fc.constantFrom(
  { type: "random" },
  { type: "binpack", field: "cpu" },
  { type: "binpack", field: "memory" },
  { type: "spread", field: "instanceId" },
  { type: "spread", field: "attribute:ecs.availability-zone" },
);
const constraint: fc.Arbitrary<PlacementConstraint> = fc.constantFrom(
  { type: "distinctInstance" },
  { type: "memberOf", expression: "attribute:ecs.availability-zone != us-east-1c" },
  { type: "memberOf", expression: "not(task:group == family:batch)" },
  { type: "memberOf", expression: "runningTasksCount < 4" },
);

const instanceArb = (k: number): fc.Arbitrary<InstanceView> =>
  fc
    .record({
      status: fc.constantFrom("ACTIVE", "ACTIVE", "ACTIVE", "DRAINING"),
      connected: fc.integer({ min: 0, max: 9 }), // 0: disconnected (one in ten)
      zone: fc.constantFrom(...ZONES),
      cpu: fc
        .tuple(fc.integer({ min: 0, max: 16 }), fc.constantFrom(0, 0, 1))
        .map(([u, short]) => Math.max(0, u * 256 - short)),
      memory: fc
        .tuple(fc.integer({ min: 0, max: 16 }), fc.constantFrom(0, 0, 1))
        .map(([u, short]) => Math.max(0, u * 512 - short)),
      ports: subset(TCP),
      portsUdp: subset(UDP),
      groups: fc.dictionary(fc.constantFrom(...GROUPS), fc.integer({ min: 0, max: 3 })),
    })
    .map((r) =>
      instance(`i${k}`, {
        status: r.status as InstanceView["status"],
        agentConnected: r.connected > 0,
        attributes: { "ecs.availability-zone": r.zone },
        remaining: { cpu: r.cpu, memory: r.memory, ports: r.ports, portsUdp: r.portsUdp },
        taskGroups: r.groups,
        runningTasksCount: Object.values(r.groups).reduce((a, b) => a + b, 0),
      }),
    );

const instancesArb = fc
  .integer({ min: 0, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => instanceArb(k))))
  .map((xs) => [...xs]);

const demandArb: fc.Arbitrary<TaskDemand> = fc
  .record({
    cpu: fc.constantFrom(0, 256, 512, 1024, 2048),
    memory: fc.constantFrom(0, 512, 1024, 4096),
    ports: subset(TCP),
    portsUdp: subset(UDP),
    group: fc.constantFrom(...GROUPS),
    constraints: fc.array(constraint, { maxLength: 2 }),
    strategies: fc.array(strategy, { maxLength: 2 }),
  })
  .map((r) => demand(r));

/** A task list that repeats demand objects, as a service's batch does. */
const tasksArb = fc
  .array(demandArb, { minLength: 1, maxLength: 4 })
  .chain((ds) => fc.array(fc.constantFrom(...ds), { maxLength: 30 }));

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Instance id → the demands placed on it. */
function byInstance(tasks: TaskDemand[], results: PlacementResult[]): Map<string, TaskDemand[]> {
  const out = new Map<string, TaskDemand[]>();
  results.forEach((r, k) => {
    if ("placed" in r) out.set(r.placed.instanceId, [...(out.get(r.placed.instanceId) ?? []), tasks[k] as TaskDemand]);
  });
  return out;
}

describe("placement invariants", () => {
  test("never overcommits CPU, memory or ports, and uses only ACTIVE connected instances", () => {
    fc.assert(
      fc.property(instancesArb, tasksArb, seedArb, (instances, tasks, seed) => {
        const results = place(tasks, instances, { seed, clusterArn: CLUSTER });
        expect(results).toHaveLength(tasks.length);
        for (const [id, placed] of byInstance(tasks, results)) {
          const v = instances.find((i) => i.id === id) as InstanceView;
          expect(v.status).toBe("ACTIVE");
          expect(v.agentConnected).toBe(true);
          expect(placed.reduce((sum, d) => sum + d.cpu, 0)).toBeLessThanOrEqual(v.remaining.cpu);
          expect(placed.reduce((sum, d) => sum + d.memory, 0)).toBeLessThanOrEqual(v.remaining.memory);
          for (const [used, want] of [
            [v.remaining.ports, placed.flatMap((d) => d.ports)],
            [v.remaining.portsUdp, placed.flatMap((d) => d.portsUdp)],
          ] as const) {
            expect(new Set(want).size).toBe(want.length);
            expect(want.filter((p) => used.includes(p))).toEqual([]);
          }
        }
      }),
      RUNS,
    );
  });

  test("distinctInstance: at most one task of the group per instance, none where it already runs", () => {
    fc.assert(
      fc.property(
        instancesArb,
        fc.integer({ min: 0, max: 12 }),
        fc.array(strategy, { maxLength: 2 }),
        seedArb,
        (instances, count, strategies, seed) => {
          const d = demand({ cpu: 64, memory: 64, constraints: [{ type: "distinctInstance" }], strategies });
          const results = place({ demand: d, count }, instances, { seed, clusterArn: CLUSTER });
          const placed = results.flatMap((r) => ("placed" in r ? [r.placed.instanceId] : []));
          expect(new Set(placed).size).toBe(placed.length);
          const eligible = instances.filter(
            (v) =>
              v.status === "ACTIVE" &&
              v.agentConnected &&
              v.remaining.cpu >= 64 &&
              v.remaining.memory >= 64 &&
              !((v.taskGroups[d.group] ?? 0) > 0),
          );
          for (const id of placed) expect(eligible.map((v) => v.id)).toContain(id);
          expect(placed.length).toBe(Math.min(count, eligible.length));
        },
      ),
      RUNS,
    );
  });

  const roomy = (n: number, zoneOf: (k: number) => string) =>
    Array.from({ length: n }, (_, k) =>
      instance(`i${k}`, {
        attributes: { "ecs.availability-zone": zoneOf(k) },
        remaining: { cpu: 1_000_000, memory: 1_000_000, ports: [], portsUdp: [] },
        taskGroups: { "family:other": k % 3 },
      }),
    );
  const spread = (counts: number[]) => Math.max(...counts) - Math.min(...counts);

  test("spread instanceId keeps per-instance counts within one when capacity allows", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 40 }), seedArb, (n, count, seed) => {
        const d = demand({ strategies: [{ type: "spread", field: "instanceId" }] });
        const results = place(
          { demand: d, count },
          roomy(n, () => "z"),
          { seed, clusterArn: CLUSTER },
        );
        const counts = Array.from(
          { length: n },
          (_, k) => results.filter((r) => "placed" in r && r.placed.instanceId === `i${k}`).length,
        );
        expect(counts.reduce((a, b) => a + b, 0)).toBe(count);
        expect(spread(counts)).toBeLessThanOrEqual(1);
      }),
      RUNS,
    );
  });

  test("spread attribute keeps per-value counts within one when capacity allows", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...ZONES), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 40 }),
        fc.option(strategy, { nil: undefined }),
        seedArb,
        (zones, count, then, seed) => {
          const d = demand({
            strategies: [{ type: "spread", field: "attribute:ecs.availability-zone" }, ...(then ? [then] : [])],
          });
          const instances = roomy(zones.length, (k) => zones[k] as string);
          const results = place({ demand: d, count }, instances, { seed, clusterArn: CLUSTER });
          const zoneOf = new Map(instances.map((v) => [v.id, v.attributes["ecs.availability-zone"]]));
          const counts = [...new Set(zones)].map(
            (z) => results.filter((r) => "placed" in r && zoneOf.get(r.placed.instanceId) === z).length,
          );
          expect(spread(counts)).toBeLessThanOrEqual(1);
        },
      ),
      RUNS,
    );
  });

  test("the same seed gives the same result, whatever the order of the instances", () => {
    fc.assert(
      fc.property(instancesArb, tasksArb, seedArb, (instances, tasks, seed) => {
        const first = place(tasks, instances, { seed, clusterArn: CLUSTER });
        expect(place(tasks, instances, { seed, clusterArn: CLUSTER })).toEqual(first);
        expect(place(tasks, [...instances].reverse(), { seed, clusterArn: CLUSTER })).toEqual(first);
      }),
      RUNS,
    );
  });

  test("does not modify its inputs", () => {
    fc.assert(
      fc.property(instancesArb, tasksArb, seedArb, (instances, tasks, seed) => {
        const before = structuredClone({ instances, tasks });
        place(tasks, instances, { seed, clusterArn: CLUSTER });
        expect({ instances, tasks }).toEqual(before);
        expect(() => place(deepFreeze(tasks), deepFreeze(instances), { seed, clusterArn: CLUSTER })).not.toThrow();
      }),
      RUNS,
    );
  });
});
