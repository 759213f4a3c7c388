import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { taskIdOf, taskIdResolver } from "../../services/api/resolve.ts";

const scope = { region: "us-east-1", account: "123456789012" };
const PREFIX = "arn:aws:ecs:us-east-1:123456789012:task/";

/** Values near the shortcut's edge: this cluster's prefix or another's, then ids of every sort. */
const value = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        `${PREFIX}web/`,
        `${PREFIX}other/`,
        "arn:aws:ecs:eu-west-1:123456789012:task/web/",
        `${PREFIX}`,
        "",
      ),
      fc.string({ unit: fc.constantFrom("a", "F", "0", "-", "_", "/", ".", ":", "\n", "é", " ") }),
    )
    .map(([p, s]) => p + s),
  fc
    .string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 32, maxLength: 32 })
    .map((id) => `${PREFIX}web/${id}`),
  fc.string(),
);

describe("taskIdResolver", () => {
  test("answers what taskIdOf answers, for any value", () => {
    const resolve = taskIdResolver("web", scope);
    fc.assert(
      fc.property(value, (v) => {
        expect(resolve(v)).toBe(taskIdOf(v, "web"));
      }),
      { numRuns: 2000 },
    );
  });

  test("an id of 256 characters is not taken by the shortcut", () => {
    const long = `${PREFIX}web/${"a".repeat(256)}`;
    expect(taskIdResolver("web", scope)(long)).toBe(taskIdOf(long, "web"));
  });

  test("a scope parseArn would refuse gets taskIdOf's answer", () => {
    const odd = { region: "us-east-1", account: "acct" };
    const v = "arn:aws:ecs:us-east-1:acct:task/web/0123456789abcdef0123456789abcdef";
    expect(taskIdResolver("web", odd)(v)).toBe(taskIdOf(v, "web"));
    expect(taskIdOf(v, "web")).toBeNull();
  });
});
