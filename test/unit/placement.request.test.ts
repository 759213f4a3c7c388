import { describe, expect, test } from "vitest";
import type { PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import { checkPlacement } from "../../machines/placement/request.ts";

describe("a request's placement members", () => {
  test.each<[string, PlacementConstraint[], PlacementStrategy[], string]>([
    ["memberOf without an expression", [{ type: "memberOf" }], [], "A memberOf placement constraint needs an expression."],
    ["memberOf that does not parse", [{ type: "memberOf", expression: "bogus ~~ x" }], [], "Invalid expression at position 1: unknown subject 'bogus'; expected agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group."],
    ["distinctInstance with an expression", [{ type: "distinctInstance", expression: "x == y" }], [], "distinctInstance does not take an expression."],
    ["binpack on another field", [], [{ type: "binpack", field: "disk" }], "binpack needs field cpu or memory."],
    ["binpack without a field", [], [{ type: "binpack" }], "binpack needs field cpu or memory."],
    ["spread without a field", [], [{ type: "spread" }], "spread needs a field: instanceId, host or attribute:<name>."],
    ["random with a field", [], [{ type: "random", field: "cpu" }], "The random placement strategy does not take a field."],
  ])("%s is an InvalidParameterException", (_name, constraints, strategies, message) => {
    expect(checkPlacement(constraints, strategies)).toEqual({ code: "InvalidParameterException", message });
  });

  test("what ECS's model allows passes", () => {
    expect(
      checkPlacement(
        [{ type: "distinctInstance" }, { type: "memberOf", expression: "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]" }],
        [{ type: "spread", field: "attribute:ecs.availability-zone" }, { type: "binpack", field: "memory" }, { type: "random" }],
      ),
    ).toBeUndefined();
    expect(checkPlacement()).toBeUndefined();
  });
});
