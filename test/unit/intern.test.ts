import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { TaskCreated } from "../../events/task.events.ts";
import { Interner, sameJson } from "../../services/control-plane/intern.ts";

describe("sameJson", () => {
  test("agrees with comparing the JSON texts, key order included", () => {
    const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameJson(a, b)).toBe(JSON.stringify(a) === JSON.stringify(b));
        const copy = JSON.parse(JSON.stringify(a)) as unknown;
        expect(sameJson(a, copy)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameJson([1, [2]], [1, [2]])).toBe(true);
    expect(sameJson({ a: [] }, { a: {} })).toBe(false);
  });
});

describe("Interner", () => {
  const created = (image: string, cpu: number) =>
    JSON.parse(
      JSON.stringify({
        type: "TaskCreated",
        taskArn: "arn:t",
        group: "family:web",
        overrides: {},
        tags: [],
        reservation: { cpu, memory: 128, ports: [], portsUdp: [] },
        spec: {
          taskArn: "arn:t",
          taskDefinitionArn: "arn:td:web:1",
          clusterArn: "arn:c",
          cluster: "c",
          family: "web",
          volumes: [],
          containers: [{ name: "app", image, cpu }],
        },
      }),
    ) as TaskCreated;

  test("tasks of one task definition share its containers only when their specs are the same", () => {
    const interner = new Interner();
    const [a, b, c, d] = [created("x", 1), created("x", 1), created("y", 1), created("x", 1)];
    for (const e of [a, b, c, d]) interner.taskEvent(e);
    expect(b.spec.containers).toBe(a.spec.containers);
    expect(c.spec.containers).not.toBe(a.spec.containers);
    expect(c.spec.containers).toEqual([{ name: "app", image: "y", cpu: 1 }]);
    // Back to the first content after another: the content table still shares it.
    expect(d.spec.containers).toBe(a.spec.containers);
  });
});
