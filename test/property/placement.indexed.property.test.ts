import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import { place, placeByScan } from "../../machines/placement/place.ts";
import type { InstanceView, TaskDemand } from "../../machines/placement/types.ts";
import { CLUSTER, demand, instance } from "../unit/placement.fixtures.ts";

/**
 * place() keeps per-demand indexes across the tasks of a call instead of scanning every instance
 * for every task; placeByScan() is the scan. Whatever the instances, demands, strategies,
 * constraints and seed, they must choose the same instance for every task and fail the same way.
 */

const RUNS = { numRuns: 300 };
const GROUPS = ["family:web", "service:api", "family:batch"];
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"];
const RACKS = ["r1", "r2"];

const single: PlacementStrategy[] = [
  { type: "random" },
  { type: "binpack", field: "cpu" },
  { type: "binpack", field: "memory" },
  { type: "spread", field: "instanceId" },
  { type: "spread", field: "host" },
  { type: "spread", field: "attribute:ecs.availability-zone" },
  { type: "spread", field: "attribute:rack" },
];
const strategies = fc.array(fc.constantFrom(...single), { maxLength: 3 });
const constraint: fc.Arbitrary<PlacementConstraint> = fc.constantFrom(
  { type: "distinctInstance" },
  { type: "memberOf", expression: "attribute:ecs.availability-zone != us-east-1c" },
  { type: "memberOf", expression: "not(task:group == family:batch)" },
  { type: "memberOf", expression: "task:group == service:api" },
  { type: "memberOf", expression: "runningTasksCount < 5" },
  { type: "memberOf", expression: "runningTasksCount > 1" },
);

const instanceArb = (k: number): fc.Arbitrary<InstanceView> =>
  fc
    .record({
      status: fc.constantFrom("ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "DRAINING"),
      connected: fc.integer({ min: 0, max: 19 }),
      zone: fc.constantFrom(...ZONES),
      rack: fc.option(fc.constantFrom(...RACKS), { nil: undefined }),
      cpu: fc.integer({ min: 0, max: 12 }).map((u) => u * 256),
      memory: fc.integer({ min: 0, max: 12 }).map((u) => u * 512),
      ports: fc.subarray([80, 443]),
      groups: fc.dictionary(fc.constantFrom(...GROUPS), fc.integer({ min: 0, max: 3 })),
    })
    .map((r) =>
      instance(`i${String(k).padStart(3, "0")}`, {
        status: r.status as InstanceView["status"],
        agentConnected: r.connected > 0,
        attributes: { "ecs.availability-zone": r.zone, ...(r.rack ? { rack: r.rack } : {}) },
        remaining: { cpu: r.cpu, memory: r.memory, ports: r.ports, portsUdp: [] },
        taskGroups: r.groups,
        runningTasksCount: Object.values(r.groups).reduce((a, b) => a + b, 0),
      }),
    );

const instancesArb = fc
  .integer({ min: 0, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, k) => instanceArb(k))))
  .map((xs) => [...xs]);

const demandArb: fc.Arbitrary<TaskDemand> = fc
  .record({
    cpu: fc.constantFrom(0, 256, 512, 1024),
    memory: fc.constantFrom(0, 512, 1024, 2048),
    ports: fc.constantFrom<number[]>([], [], [80]),
    group: fc.constantFrom(...GROUPS),
    constraints: fc.array(constraint, { maxLength: 2 }),
    strategies,
  })
  .map((r) => demand(r));

const tasksArb = fc
  .array(demandArb, { minLength: 1, maxLength: 3 })
  .chain((ds) => fc.array(fc.constantFrom(...ds), { maxLength: 80 }));

describe("indexed placement", () => {
  test("chooses exactly what scanning every instance for every task chooses", () => {
    fc.assert(
      fc.property(instancesArb, tasksArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (instances, tasks, seed) => {
        const opts = { seed, clusterArn: CLUSTER };
        expect(place(tasks, instances, opts)).toEqual(placeByScan(tasks, instances, opts));
      }),
      RUNS,
    );
  });

  test("a service-sized batch on a thousand instances: the same placements", () => {
    const instances = Array.from({ length: 1_000 }, (_, k) =>
      instance(`i${String(k).padStart(4, "0")}`, {
        attributes: { "ecs.availability-zone": ZONES[k % 3] as string },
        remaining: { cpu: 2048 - (k % 7) * 128, memory: 8192 - (k % 5) * 512, ports: [], portsUdp: [] },
        taskGroups: k % 10 === 0 ? { "service:api": 1 } : {},
      }),
    );
    const defaultService = demand({
      cpu: 128,
      memory: 256,
      group: "service:api",
      strategies: [
        { type: "spread", field: "attribute:ecs.availability-zone" },
        { type: "spread", field: "instanceId" },
      ],
    });
    for (const d of [defaultService, demand({ cpu: 128, memory: 256 }), demand({ cpu: 256, memory: 512, strategies: [{ type: "binpack", field: "memory" }] })]) {
      const opts = { seed: 42, clusterArn: CLUSTER };
      expect(place({ demand: d, count: 3_000 }, instances, opts)).toEqual(placeByScan({ demand: d, count: 3_000 }, instances, opts));
    }
  });
});
