import { describe, expect, test } from "vitest";
import { z } from "zod";
import { EcsError, parseInput } from "../../services/api/errors.ts";

/** A request's shape refused in ECS's words (machines/input-shape.ts, through the API's parseInput). */
const Request = z.object({
  taskDefinition: z.string(),
  count: z.number().int().min(1).max(10).optional(),
  tags: z.array(z.object({ key: z.string(), value: z.string().optional() })).max(50).optional(),
  overrides: z.object({ cpu: z.string().optional() }).optional(),
  launchType: z.enum(["EC2", "FARGATE", "EXTERNAL"]).optional(),
  enableExecuteCommand: z.boolean().optional(),
});

function refusal(input: unknown, code?: string): { code: string; message: string } {
  try {
    parseInput(Request, input, code);
  } catch (err) {
    if (err instanceof EcsError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("accepted");
}

describe("a request's shape", () => {
  test.each([
    [{ taskDefinition: "web", count: "2" }, "STRING_VALUE cannot be converted to Integer (member count)."],
    [{ taskDefinition: 7 }, "NUMBER_VALUE cannot be converted to String (member taskDefinition)."],
    [{ taskDefinition: "web", enableExecuteCommand: "yes" }, "STRING_VALUE cannot be converted to Boolean (member enableExecuteCommand)."],
    [{ taskDefinition: "web", tags: {} }, "Start of structure or map found where not expected (member tags)."],
    [{ taskDefinition: "web", overrides: "x" }, "STRING_VALUE cannot be converted to Structure (member overrides)."],
    [{ taskDefinition: "web", overrides: { cpu: [] } }, "Start of list found where not expected (member overrides.cpu)."],
    [{ taskDefinition: "web", tags: [{ key: true }] }, "BOOLEAN_VALUE cannot be converted to String (member tags[0].key)."],
  ])("a member of the wrong JSON type is not deserialized: SerializationException, whatever the operation's code (%j)", (input, message) => {
    expect(refusal(input)).toEqual({ code: "SerializationException", message });
    expect(refusal(input, "ClientException")).toEqual({ code: "SerializationException", message });
  });

  test.each([
    [{}, "taskDefinition is required."],
    [{ taskDefinition: "web", count: 2.5 }, "count must be an integer."],
    [{ taskDefinition: "web", count: 11 }, "count must have at most 10."],
    [{ taskDefinition: "web", launchType: "MARS" }, "launchType must be one of: EC2, FARGATE, EXTERNAL."],
    [{ taskDefinition: "web", tags: [null] }, "tags[0] must not be null."],
    [{ taskDefinition: null }, "taskDefinition is required."],
  ])("a value that is read but not valid takes the operation's code (%j)", (input, message) => {
    expect(refusal(input)).toEqual({ code: "InvalidParameterException", message });
    expect(refusal(input, "ClientException")).toEqual({ code: "ClientException", message });
  });

  test("null is a member not set, as AWS's JSON servers read it", () => {
    expect(parseInput(Request, { taskDefinition: "web", count: null, overrides: { cpu: null }, tags: null })).toEqual({
      taskDefinition: "web",
      overrides: {},
    });
  });
});
