import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compileJavaRegex, fullMatch } from "../../machines/placement/cql.regex.vm.ts";
import { evaluate, parseExpression } from "../../machines/placement/cql.ts";
import { deepFreeze, instance } from "../unit/placement.fixtures.ts";

const RUNS = { numRuns: 200 };
const HOST = deepFreeze(
  instance("h", {
    attributes: { a: "x", b: null, "ecs.availability-zone": "us-east-1a" },
    taskGroups: { "service:x": 1 },
  }),
);

/** Sequences of the language's own tokens: mostly near-misses, the parser's hardest inputs. */
const TOKENS = [
  "attribute:a",
  "attribute:b",
  "task:group",
  "agentVersion",
  "registeredAt",
  "runningTasksCount",
  "agentConnected",
  "ec2InstanceId",
  "==",
  "!=",
  ">",
  "<=",
  "in",
  "!in",
  "=~",
  "!~",
  "exists",
  "!exists",
  "not_in",
  "matches",
  "[",
  "]",
  ",",
  "(",
  ")",
  "not",
  "!",
  "and",
  "or",
  "&&",
  "||",
  "'",
  '"',
  "x",
  "1.2.3",
  "2018-06-18",
  "3",
  "true",
  "(a+)+",
  "[a-",
  "\\",
  "service:x",
  "",
];
const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).map((ts) => ts.join(" "));

describe("the query language never fails by throwing", () => {
  test("any text parses or is refused with InvalidParameterException; parsed expressions evaluate", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), tokenSoup), (text) => {
        const parsed = parseExpression(text);
        if (parsed.ok) expect(typeof evaluate(parsed.expr, HOST)).toBe("boolean");
        else {
          expect(parsed.rejection.code).toBe("InvalidParameterException");
          expect(parsed.rejection.message).toMatch(/^Invalid expression/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** Patterns where java.util.regex and JavaScript agree: literals, ., classes, groups, |, quantifiers. */
const pattern: fc.Arbitrary<string> = fc.letrec<{ re: string }>((tie) => ({
  re: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("a", "b", "c", ".", "[ab]", "[^a]", "\\d", "\\w", "[a-c1]"),
    fc.tuple(tie("re"), tie("re")).map(([x, y]) => x + y),
    fc.tuple(tie("re"), tie("re")).map(([x, y]) => `(${x}|${y})`),
    fc
      .tuple(tie("re"), fc.constantFrom("*", "+", "?", "{2}", "{1,2}", "{0,}", "*?", "+?"))
      .map(([x, q]) => `(?:${x})${q}`),
  ),
})).re;

describe("the matches operator's engine", () => {
  test("agrees with a backtracking engine on whole-value matches", () => {
    fc.assert(
      fc.property(pattern, fc.string({ unit: fc.constantFrom("a", "b", "c", "1"), maxLength: 8 }), (p, s) => {
        const compiled = compileJavaRegex(p);
        expect(compiled.ok).toBe(true);
        if (compiled.ok) expect(fullMatch(compiled.regex, s)).toBe(new RegExp(`^(?:${p})$`).test(s));
      }),
      RUNS,
    );
  });

  test("compiling arbitrary text answers ok or a message, never throws", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (p) => {
        const compiled = compileJavaRegex(p);
        if (!compiled.ok) expect(compiled.message).toBeTruthy();
        else expect(typeof fullMatch(compiled.regex, "abc")).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});
