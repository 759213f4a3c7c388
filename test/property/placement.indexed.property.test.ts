import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import { Placer, place, placeByScan } from "../../machines/placement/place.ts";
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

  /**
   * A Placer keeps its state between calls; each call must still choose what a fresh place()
   * chooses on the same views. Between calls the cluster changes as the shell's index changes it:
   * the placed tasks land (their instances' views are replaced), other instances change, now and
   * then one leaves ACTIVE or gets new attributes, or the list itself is replaced.
   */
  test("a Placer across calls chooses what place() chooses on each call's views", () => {
    const change = fc.record({
      land: fc.boolean(),
      touch: fc.array(fc.nat(), { maxLength: 4 }),
      drain: fc.option(fc.nat(), { freq: 6, nil: undefined }),
      relabel: fc.option(fc.nat(), { freq: 8, nil: undefined }),
      newList: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    });
    const call = fc.record({ tasks: tasksArb, seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }), change });
    fc.assert(
      fc.property(instancesArb, fc.array(call, { minLength: 1, maxLength: 6 }), (initial, calls) => {
        let views = [...initial];
        const placer = new Placer();
        for (const c of calls) {
          const opts = { seed: c.seed, clusterArn: CLUSTER };
          const expected = place(c.tasks, views, opts);
          const got = placer.place(c.tasks, views, opts);
          expect(got).toEqual(expected);
          if (views.length === 0) continue;
          const at = (k: number) => k % views.length;
          const replace = (k: number, over: Partial<InstanceView>) => {
            views[at(k)] = { ...(views[at(k)] as InstanceView), ...over };
          };
          if (c.change.land)
            expected.forEach((r, k) => {
              if (!("placed" in r)) return;
              const i = views.findIndex((v) => v.id === r.placed.instanceId);
              const v = views[i] as InstanceView;
              const d = c.tasks[k] as TaskDemand;
              replace(i, {
                remaining: { ...v.remaining, cpu: v.remaining.cpu - d.cpu, memory: v.remaining.memory - d.memory, ports: [...v.remaining.ports, ...d.ports] },
                taskGroups: { ...v.taskGroups, [d.group]: (v.taskGroups[d.group] ?? 0) + 1 },
                runningTasksCount: v.runningTasksCount + 1,
              });
            });
          for (const k of c.change.touch) {
            const v = views[at(k)] as InstanceView;
            replace(k, { remaining: { ...v.remaining, cpu: v.remaining.cpu + 256 }, taskGroups: {}, runningTasksCount: 0 });
          }
          if (c.change.drain !== undefined) {
            const v = views[at(c.change.drain)] as InstanceView;
            replace(c.change.drain, { status: v.status === "ACTIVE" ? "DRAINING" : "ACTIVE" });
          }
          if (c.change.relabel !== undefined) {
            const v = views[at(c.change.relabel)] as InstanceView;
            replace(c.change.relabel, { attributes: { ...v.attributes, rack: "r3" } });
          }
          if (c.change.newList) views = [...views];
        }
      }),
      RUNS,
    );
  });
});
