import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { InstanceEvent } from "../../events/instance.events.ts";
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

describe("Interner: instance registrations", () => {
  const registered = (zone: string, instanceId: string): InstanceEvent =>
    JSON.parse(
      JSON.stringify({
        type: "InstanceRegistered",
        at: 1,
        containerInstanceArn: `arn:ci/${instanceId}`,
        instanceId,
        cluster: "c",
        hostname: `host-${instanceId}`,
        registeredResources: [
          { name: "CPU", type: "INTEGER", integerValue: 2048 },
          { name: "PORTS", type: "STRINGSET", stringSetValue: ["22"] },
        ],
        attributes: [
          { name: "ecs.os-type", value: "linux" },
          { name: "ecs.availability-zone", value: zone },
          { name: "com.amazonaws.ecs.capability.docker-remote-api.1.17" },
        ],
        versionInfo: { agentVersion: "1", dockerVersion: "20" },
        capacity: ["EC2"],
        tags: [],
      }),
    ) as InstanceEvent;

  test("instances reporting the same parts share them; different lists share their equal elements", () => {
    const interner = new Interner();
    const [a, b, c] = [registered("az-a", "1"), registered("az-a", "2"), registered("az-b", "3")] as Extract<
      InstanceEvent,
      { type: "InstanceRegistered" }
    >[];
    for (const e of [a, b, c]) interner.instanceEvent(e as InstanceEvent);
    expect(b?.attributes).toBe(a?.attributes);
    expect(b?.registeredResources).toBe(a?.registeredResources);
    expect(b?.versionInfo).toBe(a?.versionInfo);
    expect(b?.capacity).toBe(a?.capacity);
    expect(c?.attributes).not.toBe(a?.attributes);
    expect(c?.attributes[0]).toBe(a?.attributes[0]);
    expect(c?.attributes[2]).toBe(a?.attributes[2]);
    expect(c?.attributes[1]).toEqual({ name: "ecs.availability-zone", value: "az-b" });
    // Shared, not altered: each still says what its agent reported.
    expect(JSON.stringify(c)).toBe(JSON.stringify(registered("az-b", "3")));
  });
});
