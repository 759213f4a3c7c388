import { describe, expect, test } from "vitest";
import type { PlacementStrategy } from "../../events/shapes.ts";
import { place } from "../../machines/placement/place.ts";
import type { InstanceView, PlacementResult, TaskDemand } from "../../machines/placement/types.ts";
import { arnOf, CLUSTER, deepFreeze, demand, instance, outcome } from "./placement.fixtures.ts";

const opts = { seed: 42, clusterArn: CLUSTER };
const run = (d: TaskDemand, count: number, instances: InstanceView[], seed = 42) =>
  place({ demand: d, count }, deepFreeze(instances), { seed, clusterArn: CLUSTER });
const failure = (r: PlacementResult | undefined) => (r && "failed" in r ? r.failed : undefined);
const az = (id: string, zone: string, over: Partial<InstanceView> = {}) =>
  instance(id, { attributes: { "ecs.availability-zone": zone }, ...over });
const SPREAD_AZ: PlacementStrategy = { type: "spread", field: "attribute:ecs.availability-zone" };

describe("each filter reports ECS's reason on the closest instance", () => {
  test.each<[string, Partial<InstanceView>, Partial<TaskDemand>, string]>([
    ["launch type", { capacity: ["EXTERNAL"] }, {}, "ATTRIBUTE"],
    ["agent", { agentConnected: false }, {}, "AGENT"],
    ["requiresAttributes (name)", {}, { requiresAttributes: [{ name: "ecs.capability.task-eni" }] }, "ATTRIBUTE"],
    [
      "requiresAttributes (value)",
      {},
      { requiresAttributes: [{ name: "ecs.os-type", value: "windows" }] },
      "ATTRIBUTE",
    ],
    ["cpu", {}, { cpu: 4096 }, "RESOURCE:CPU"],
    ["memory", {}, { memory: 8192 }, "RESOURCE:MEMORY"],
    ["tcp ports", {}, { ports: [8080, 22] }, "RESOURCE:PORTS"],
    [
      "udp ports",
      { remaining: { cpu: 2048, memory: 4096, ports: [], portsUdp: [53] } },
      { portsUdp: [53] },
      "RESOURCE:PORTS_UDP",
    ],
    [
      "memberOf",
      {},
      { constraints: [{ type: "memberOf", expression: "attribute:ecs.instance-type =~ g2.*" }] },
      "MemberOf placement constraint unsatisfied.",
    ],
    [
      "distinctInstance",
      { taskGroups: { "family:web": 1 } },
      { constraints: [{ type: "distinctInstance" }] },
      "DistinctInstance placement constraint unsatisfied.",
    ],
  ])("%s", (_, over, need, reason) => {
    const [r] = run(demand(need), 1, [instance("a", over)]);
    expect(failure(r)).toMatchObject({ arn: arnOf("a"), reason });
    expect(failure(r)?.detail).toBeTruthy();
  });

  test("details say what was missing", () => {
    const [cpu] = run(demand({ cpu: 4096 }), 1, [instance("a")]);
    expect(failure(cpu)?.detail).toBe("needs 4096 CPU units, 2048 remaining");
    const [port] = run(demand({ ports: [8080, 22] }), 1, [instance("a")]);
    expect(failure(port)?.detail).toBe("TCP port 22 already in use");
    const [member] = run(demand({ constraints: [{ type: "memberOf", expression: "attribute:rack == r1" }] }), 1, [
      instance("a"),
    ]);
    expect(failure(member)?.detail).toBe("expression not satisfied: attribute:rack == r1");
  });

  test("the closest instance is the one that passed the most filters", () => {
    const instances = [
      instance("a", { agentConnected: false }), // fails AGENT
      instance("b", { remaining: { cpu: 2048, memory: 128, ports: [], portsUdp: [] } }), // fails MEMORY
      instance("c", { remaining: { cpu: 100, memory: 4096, ports: [], portsUdp: [] } }), // fails CPU
    ];
    expect(failure(run(demand(), 1, instances)[0])).toMatchObject({ arn: arnOf("b"), reason: "RESOURCE:MEMORY" });
  });

  test("resources are checked before constraints, as in ECS's algorithm", () => {
    const instances = [
      instance("a", { remaining: { cpu: 0, memory: 4096, ports: [], portsUdp: [] } }),
      instance("b", { attributes: { rack: "r2" } }),
    ];
    const d = demand({ constraints: [{ type: "memberOf", expression: "attribute:rack == r1" }] });
    expect(failure(run(d, 1, instances)[0])).toMatchObject({
      arn: arnOf("b"),
      reason: "MemberOf placement constraint unsatisfied.",
    });
  });

  test("no ACTIVE instance: NO ACTIVE INSTANCES on the cluster ARN", () => {
    for (const instances of [[], [instance("a", { status: "DRAINING" }), instance("b", { status: "REGISTERING" })]])
      expect(failure(run(demand(), 1, instances)[0])).toMatchObject({ arn: CLUSTER, reason: "NO ACTIVE INSTANCES" });
  });

  test("DRAINING instances take no tasks even when they would fit", () => {
    const results = run(demand(), 3, [instance("a", { status: "DRAINING" }), instance("b")]);
    expect(results.map(outcome)).toEqual(["b", "b", "b"]);
  });

  test("an expression that does not parse is satisfied by no instance", () => {
    const [r] = run(demand({ constraints: [{ type: "memberOf", expression: "attribute:x ==" }] }), 1, [instance("a")]);
    expect(failure(r)?.reason).toBe("MemberOf placement constraint unsatisfied.");
    expect(failure(r)?.detail).toContain("Invalid expression at position");
  });

  test("EXTERNAL and FARGATE tasks go only to instances offering that capacity", () => {
    const instances = [
      instance("a"),
      instance("b", { capacity: ["EXTERNAL"] }),
      instance("c", { capacity: ["FARGATE"] }),
    ];
    expect(run(demand({ launchType: "EXTERNAL" }), 2, instances).map(outcome)).toEqual(["b", "b"]);
    expect(run(demand({ launchType: "FARGATE" }), 1, instances).map(outcome)).toEqual(["c"]);
  });
});

describe("a batch is charged as it goes", () => {
  test("never overcommits CPU: the third 1024-unit task does not fit a 2048-unit instance", () => {
    expect(run(demand({ cpu: 1024 }), 3, [instance("a")]).map(outcome)).toEqual(["a", "a", "RESOURCE:CPU"]);
  });

  test("a static host port is taken once per instance", () => {
    const d = demand({ ports: [80], strategies: [{ type: "binpack", field: "memory" }] });
    expect(run(d, 3, [instance("a"), instance("b")]).map(outcome)).toEqual(["a", "b", "RESOURCE:PORTS"]);
  });

  test("distinctInstance counts tasks placed earlier in the batch and already running", () => {
    const d = demand({ constraints: [{ type: "distinctInstance" }] });
    const instances = [instance("a"), instance("b", { taskGroups: { "family:web": 1 } }), instance("c")];
    expect(run(d, 3, instances).map(outcome).sort()).toEqual([
      "DistinctInstance placement constraint unsatisfied.",
      "a",
      "c",
    ]);
  });

  test("task:group anti-affinity sees the batch's own tasks", () => {
    const d = demand({ constraints: [{ type: "memberOf", expression: "not(task:group == family:web)" }] });
    const results = run(d, 3, [instance("a"), instance("b")]);
    expect(results.map(outcome).slice(0, 2).sort()).toEqual(["a", "b"]);
    expect(failure(results[2])?.reason).toBe("MemberOf placement constraint unsatisfied.");
  });

  test("task:group affinity places next to the group", () => {
    const d = demand({ constraints: [{ type: "memberOf", expression: "task:group == service:db" }] });
    const instances = [instance("a"), instance("b", { taskGroups: { "service:db": 1 } }), instance("c")];
    expect(run(d, 3, instances).map(outcome)).toEqual(["b", "b", "b"]);
  });

  test("runningTasksCount counts the batch's placements", () => {
    const d = demand({ constraints: [{ type: "memberOf", expression: "runningTasksCount == 0" }] });
    const results = run(d, 3, [instance("a"), instance("b", { runningTasksCount: 2 }), instance("c")]);
    expect(results.map(outcome).sort()).toEqual(["MemberOf placement constraint unsatisfied.", "a", "c"]);
  });

  test("a list of different demands shares the working copy", () => {
    const big = demand({ cpu: 2048, group: "family:big" });
    const small = demand({ cpu: 1024 });
    const [first, ...rest] = place([big, small, small, small], deepFreeze([instance("a"), instance("b")]), opts).map(
      outcome,
    );
    const other = first === "a" ? "b" : "a";
    expect(rest).toEqual([other, other, "RESOURCE:CPU"]);
  });
});

describe("strategies", () => {
  test("binpack memory: least remaining memory that fits, filling one instance before the next", () => {
    const instances = [
      instance("a", { remaining: { cpu: 4096, memory: 3000, ports: [], portsUdp: [] } }),
      instance("b", { remaining: { cpu: 4096, memory: 1100, ports: [], portsUdp: [] } }),
      instance("c", { remaining: { cpu: 4096, memory: 400, ports: [], portsUdp: [] } }), // too small
    ];
    const d = demand({ memory: 512, strategies: [{ type: "binpack", field: "memory" }] });
    expect(run(d, 5, instances).map(outcome)).toEqual(["b", "b", "a", "a", "a"]);
  });

  test("binpack cpu", () => {
    const instances = [
      instance("a", { remaining: { cpu: 1024, memory: 4096, ports: [], portsUdp: [] } }),
      instance("b", { remaining: { cpu: 512, memory: 4096, ports: [], portsUdp: [] } }),
    ];
    const d = demand({ cpu: 256, strategies: [{ type: "binpack", field: "CPU" }] });
    expect(run(d, 4, instances).map(outcome)).toEqual(["b", "b", "a", "a"]);
  });

  test("spread instanceId (or host) round-robins over instances, counting running tasks", () => {
    const instances = [instance("a", { taskGroups: { "family:web": 2 } }), instance("b"), instance("c")];
    for (const field of ["instanceId", "host"]) {
      const d = demand({ strategies: [{ type: "spread", field }] });
      expect(run(d, 5, instances).map(outcome)).toEqual(["b", "c", "b", "c", "a"]);
    }
  });

  test("spread attribute evens out the buckets, counting existing tasks of the group only", () => {
    const instances = [
      az("a1", "us-east-1a", { taskGroups: { "family:web": 2, "family:other": 9 } }),
      az("b1", "us-east-1b"),
      az("b2", "us-east-1b"),
      az("c1", "us-east-1c", { taskGroups: { "family:other": 5 } }),
    ];
    const d = demand({ strategies: [SPREAD_AZ] });
    const zone = (id: string) => id.slice(0, 1);
    expect(
      run(d, 4, instances)
        .map((r) => zone(outcome(r)))
        .sort(),
    ).toEqual(["b", "b", "c", "c"]);
  });

  test("spread AZ, then binpack memory within the AZ", () => {
    const instances = [
      az("a1", "us-east-1a", { remaining: { cpu: 4096, memory: 4096, ports: [], portsUdp: [] } }),
      az("a2", "us-east-1a", { remaining: { cpu: 4096, memory: 1024, ports: [], portsUdp: [] } }),
      az("b1", "us-east-1b", { remaining: { cpu: 4096, memory: 2048, ports: [], portsUdp: [] } }),
      az("b2", "us-east-1b", { remaining: { cpu: 4096, memory: 4096, ports: [], portsUdp: [] } }),
    ];
    const d = demand({ memory: 512, strategies: [SPREAD_AZ, { type: "binpack", field: "memory" }] });
    // Once the AZs tie, binpack chooses among both: b1 (1024 left) before a1 (4096).
    expect(run(d, 6, instances).map(outcome)).toEqual(["a2", "b1", "a2", "b1", "b1", "a1"]);
  });

  test("binpack first, spread only breaks its ties", () => {
    const instances = [
      instance("a", { remaining: { cpu: 4096, memory: 2048, ports: [], portsUdp: [] } }),
      instance("b", { remaining: { cpu: 4096, memory: 2048, ports: [], portsUdp: [] } }),
    ];
    const d = demand({
      memory: 1024,
      strategies: [
        { type: "binpack", field: "memory" },
        { type: "spread", field: "instanceId" },
      ],
    });
    expect(run(d, 4, instances).map(outcome)).toEqual(["a", "a", "b", "b"]);
  });

  const many = Array.from({ length: 8 }, (_, k) => instance(`i${k}`));

  test("random is deterministic for a seed and varies with it", () => {
    const d = demand({ strategies: [{ type: "random" }] });
    const once = run(d, 10, many, 7).map(outcome);
    expect(run(d, 10, many, 7).map(outcome)).toEqual(once);
    const bySeed = new Set([1, 2, 3, 4, 5].map((seed) => run(d, 10, many, seed).map(outcome).join()));
    expect(bySeed.size).toBeGreaterThan(1);
  });

  test("no strategy means random", () => {
    expect(run(demand(), 10, many, 9).map(outcome)).toEqual(
      run(demand({ strategies: [{ type: "random" }] }), 10, many, 9).map(outcome),
    );
  });

  test("unknown strategies are skipped; ties go to the lowest ARN", () => {
    const d = demand({ strategies: [{ type: "binpack", field: "gpu" }] });
    expect(run(d, 3, [instance("b"), instance("a")]).map(outcome)).toEqual(["a", "b", "a"]);
  });
});

describe("purity", () => {
  test("input order does not matter", () => {
    const instances = Array.from({ length: 6 }, (_, k) => az(`i${k}`, `zone-${k % 3}`));
    const d = demand({ strategies: [SPREAD_AZ] });
    const forward = run(d, 9, instances).map(outcome);
    expect(run(d, 9, [...instances].reverse()).map(outcome)).toEqual(forward);
    expect(run(demand(), 9, [...instances].reverse()).map(outcome)).toEqual(run(demand(), 9, instances).map(outcome));
  });

  test("does not modify its inputs", () => {
    const instances = [instance("a", { taskGroups: { "family:web": 1 } }), instance("b")];
    const d = demand({ ports: [80], constraints: [{ type: "memberOf", expression: "runningTasksCount < 5" }] });
    const before = structuredClone({ instances, d });
    place({ demand: d, count: 3 }, instances, opts);
    place([d, d], instances, opts);
    expect({ instances, d }).toEqual(before);
    // and frozen inputs do not throw (every test above runs on frozen instances)
    expect(() => place({ demand: deepFreeze(d), count: 2 }, deepFreeze(instances), opts)).not.toThrow();
  });

  test("a group named like an Object.prototype member is an ordinary group", () => {
    const d = demand({ group: "__proto__", constraints: [{ type: "distinctInstance" }] });
    expect(run(d, 3, [instance("a"), instance("b")]).map(outcome)).toEqual(
      expect.arrayContaining(["DistinctInstance placement constraint unsatisfied."]),
    );
  });

  test("count 0 places nothing; repeated failures are reported for every task", () => {
    expect(run(demand(), 0, [instance("a")])).toEqual([]);
    const results = run(demand({ cpu: 9999 }), 4, [instance("a")]);
    expect(results.map(outcome)).toEqual(Array(4).fill("RESOURCE:CPU"));
  });
});
