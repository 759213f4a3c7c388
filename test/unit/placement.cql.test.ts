import { describe, expect, test } from "vitest";
import { dependsOnTasks, evaluate, MAX_EXPRESSION_LENGTH, parseExpression } from "../../machines/placement/cql.ts";
import type { InstanceView } from "../../machines/placement/types.ts";
import { deepFreeze, instance } from "./placement.fixtures.ts";

/** The instance every expression below is evaluated against (frozen: evaluate must not write). */
const HOST: InstanceView = deepFreeze(
  instance("0123abcd", {
    attributes: {
      "ecs.instance-type": "g2.2xlarge",
      "ecs.availability-zone": "us-east-1a",
      stack: "prod",
      cores: "16",
      "com.amazonaws.ecs.capability.privileged-container": null,
    },
    ec2InstanceId: "i-abcd1234",
    agentVersion: "1.14.4",
    registeredAt: Date.UTC(2018, 1, 12, 10, 30, 15, 750),
    runningTasksCount: 1,
    taskGroups: { "service:production": 2, "family:batch": 0 },
  }),
);

function run(text: string, on: InstanceView = HOST): boolean {
  const parsed = parseExpression(text);
  if (!parsed.ok) throw new Error(parsed.rejection.message);
  return evaluate(parsed.expr, on);
}

describe("ECS's documented examples", () => {
  test.each([
    ["attribute:ecs.instance-type == t2.small", false],
    ["attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true],
    ["attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", true],
    ["task:group == service:production", true],
    ["not(task:group == database)", true],
    ["runningTasksCount == 1", true],
    ["agentVersion < 1.14.5", true],
    ["registeredAt < 2018-02-13", true],
    ["ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true],
    ["attribute:stack == prod", true],
    ["attribute:stack != prod", false],
    ["attribute:ecs.instance-type in [t2.small, t2.medium]", false],
  ])("%s → %s", (text, expected) => expect(run(text)).toBe(expected));
});

describe("every subject and operator", () => {
  test.each([
    // agentConnected: equality, lists and patterns over "true"/"false"
    ["agentConnected == true", true],
    ["agentConnected equals TRUE", true],
    ["agentConnected != true", false],
    ["agentConnected not_equals false", true],
    ["agentConnected in [false, true]", true],
    ["agentConnected !in [true]", false],
    ["agentConnected not_in [false]", true],
    ["agentConnected =~ t.*", true],
    ["agentConnected matches f.*", false],
    ["agentConnected !~ f.*", true],
    ["agentConnected not_matches t.*", false],
    // agentVersion: numeric per component
    ["agentVersion == 1.14.4", true],
    ["agentVersion == 1.014.4.0", true],
    ["agentVersion != 1.14.4", false],
    ["agentVersion > 1.9.99", true],
    ["agentVersion greater_than 1.14.4", false],
    ["agentVersion >= 1.14.4", true],
    ["agentVersion greater_than_equal 1.15", false],
    ["agentVersion < 1.14.10", true],
    ["agentVersion less_than 1.14.4", false],
    ["agentVersion <= 1.14.4", true],
    ["agentVersion less_than_equal v1.14.3", false],
    // attribute: every operator
    ["attribute:stack == prod", true],
    ["attribute:stack equals Prod", false],
    ["attribute:stack != dev", true],
    ["attribute:stack > prn", true],
    ["attribute:stack > prod", false],
    ["attribute:stack >= prod", true],
    ["attribute:stack < q", true],
    ["attribute:stack <= pro", false],
    ["attribute:cores > 8", true],
    ["attribute:cores less_than 100", true],
    ["attribute:stack exists", true],
    ["attribute:rack exists", false],
    ["attribute:rack !exists", true],
    ["attribute:stack not_exists", false],
    ["attribute:stack in [dev, prod]", true],
    ["attribute:stack !in [dev, prod]", false],
    ["attribute:stack =~ pr.d", true],
    ["attribute:stack !~ pr.d", false],
    // ec2InstanceId
    ["ec2InstanceId == i-abcd1234", true],
    ["ec2InstanceId != i-abcd1234", false],
    ["ec2InstanceId in [i-1, i-abcd1234]", true],
    ["ec2InstanceId not_in [i-1]", true],
    ["ec2InstanceId =~ i-[0-9a-f]{8}", true],
    ["ec2InstanceId !~ i-.*", false],
    // registeredAt: 2018-02-12T10:30:15.750Z, compared in whole seconds
    ["registeredAt == 2018-02-12T10:30:15Z", true],
    ["registeredAt == 2018-02-12T10:30:15", true],
    ["registeredAt == 2018-02-12T12:30:15+02:00", true],
    ["registeredAt == 2018-02-12T05:30:15-05:00", true],
    ["registeredAt != 2018-02-12T10:30:15+00:00", false],
    ["registeredAt > 2018-02-12", true],
    ["registeredAt >= 2018-02-13", false],
    ["registeredAt < 2018-02-12T10:30:16Z", true],
    ["registeredAt <= 2018-02-12T10:30:14Z", false],
    // runningTasksCount
    ["runningTasksCount == 1", true],
    ["runningTasksCount != 1", false],
    ["runningTasksCount > 0", true],
    ["runningTasksCount >= 2", false],
    ["runningTasksCount < 2", true],
    ["runningTasksCount <= 0", false],
    // task:group: whether the instance runs a task of the group (a zero count is no task)
    ["task:group == service:production", true],
    ["task:group == family:batch", false],
    ["task:group != service:production", false],
    ["task:group != database", true],
    ["task:group in [database, service:production]", true],
    ["task:group !in [database, family:batch]", true],
    ["task:group =~ service:.*", true],
    ["task:group =~ family:.*", false],
    ["task:group !~ service:prod.*", false],
  ])("%s → %s", (text, expected) => expect(run(text)).toBe(expected));
});

describe("absent and valueless subjects", () => {
  const bare = deepFreeze(
    instance("bare", { attributes: { flag: null }, ec2InstanceId: undefined, agentVersion: undefined }),
  );
  test.each([
    // An absent subject satisfies only !exists, negative comparisons included (ECS: "has stack, not prod").
    ["attribute:stack != prod", false],
    ["attribute:stack !in [prod]", false],
    ["attribute:stack !~ prod", false],
    ["attribute:stack !exists", true],
    ["ec2InstanceId != i-1", false],
    ["agentVersion < 9", false],
    ["agentVersion != 9", false],
    // A valueless attribute exists; positive comparisons fail, negative ones hold.
    ["attribute:flag exists", true],
    ["attribute:flag == x", false],
    ["attribute:flag != x", true],
    ["attribute:flag in [x]", false],
    ["attribute:flag !in [x]", true],
    ["attribute:flag =~ .*", false],
    // Names of Object.prototype members are not attributes or groups.
    ["attribute:constructor exists", false],
    ["task:group == constructor", false],
  ])("%s → %s", (text, expected) => expect(run(text, bare)).toBe(expected));
});

describe("compound expressions", () => {
  test.each([
    ["attribute:stack == prod && runningTasksCount == 1", true],
    ["attribute:stack == prod and runningTasksCount == 2", false],
    ["attribute:stack == dev || runningTasksCount == 1", true],
    ["attribute:stack == dev OR runningTasksCount == 2", false],
    ["!attribute:stack == dev", true],
    ["not attribute:stack == prod", false],
    ["not(task:group == database)", true],
    ["!(task:group == service:production)", false],
    ["NOT (attribute:stack == prod)", false],
    // and binds tighter than or; parentheses override
    ["attribute:stack == dev and runningTasksCount == 1 or agentConnected == true", true],
    ["attribute:stack == dev and (runningTasksCount == 1 or agentConnected == true)", false],
    ["(attribute:stack == prod or attribute:stack == dev) and not(task:group == database)", true],
    ["((attribute:stack == prod))", true],
    ["not not attribute:stack == prod", true],
    // no spaces around symbols
    ["attribute:ecs.instance-type=~g2.*&&runningTasksCount<2", true],
    ["not(attribute:stack==dev)||agentConnected==false", true],
  ])("%s → %s", (text, expected) => expect(run(text)).toBe(expected));
});

describe("arguments", () => {
  test.each([
    ["attribute:stack in ['dev', \"prod\"]", true],
    ["attribute:stack in [ dev ,prod ]", true],
    ["attribute:stack in ['prod']", true],
    ["attribute:stack == 'prod'", true],
    ['attribute:stack == "prod"', true],
    ["attribute:ecs.availability-zone == 'us-east-1a'", true],
    ["ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true],
    ["task:group in ['service:production']", true],
  ])("%s → %s", (text, expected) => expect(run(text)).toBe(expected));
});

describe("matches: Java patterns, whole-value", () => {
  const on = (value: string) => deepFreeze(instance("r", { attributes: { v: value } }));
  test.each([
    ["g2.*", "g2.2xlarge", true],
    ["g2", "g2.2xlarge", false], // whole value, as Java's matches()
    ["t2\\.(small|medium)", "t2.medium", true],
    ["t2\\.(small|medium)", "t2xmedium", false],
    ["'(t2|t3)\\.(micro|small)'", "t3.micro", true],
    ["[a-c]+\\d{2,3}", "abc123", true],
    ["[^a-c]+", "xyz", true],
    ["\\w+-\\w+", "us-east", true],
    ["\\p{Alpha}+\\p{Digit}", "abc1", true],
    ["\\P{Digit}+", "abc", true],
    ["(?i)PROD", "prod", true],
    ["(?i:A)b", "aB", false],
    ["\\Q1.0\\E", "1.0", true],
    ["\\Q1.0\\E", "1x0", false],
    ["^a$", "a", true],
    ["\\x41\\u0042", "AB", true],
    ["a{2}", "aa", true],
    ["a{2,}?", "aaaa", true],
    ["(?<name>x)y", "xy", true],
    ["\\bab\\b", "ab", true],
    ["'a b'", "a b", true],
    ["[]a]+", "]a", true],
  ])("%s on %s → %s", (pattern, value, expected) => expect(run(`attribute:v =~ ${pattern}`, on(value))).toBe(expected));

  test("catastrophic patterns run in linear time", () => {
    const started = performance.now();
    expect(run("attribute:v =~ '(a+)+b'", on("a".repeat(128)))).toBe(false);
    expect(run("attribute:v =~ '(a|a)*b'", on("a".repeat(128)))).toBe(false);
    expect(run(`attribute:v =~ '${".*".repeat(50)}x'`, on("a".repeat(128)))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("malformed expressions are InvalidParameterException", () => {
  test.each([
    ["", "empty"],
    ["   ", "empty"],
    ["foo == bar", "position 1: unknown subject 'foo'"],
    ["attribute: == x", "position 1: 'attribute:' must be followed by an attribute name"],
    ["attribute:stack", "position 16: expected an operator"],
    ["attribute:stack likes prod", "expected an operator after 'attribute:stack'"],
    ["attribute:stack ==", "position 19: expected a value after '=='"],
    ["attribute:stack == prod and", "expected a subject"],
    ["attribute:stack == prod prod", "position 25: expected 'and', 'or' or the end of the expression, found 'prod'"],
    ["(attribute:stack == prod", "expected ')' to close the '(' at position 1"],
    ["attribute:stack == prod)", "')' has no matching '('"],
    ["attribute:stack in prod", "'in' takes a list such as [a, b]"],
    ["attribute:stack in []", "the list is empty"],
    ["attribute:stack in [a b]", "expected ',' or ']'"],
    ["attribute:stack in [a,]", "expected a list item"],
    ["attribute:stack == [a]", "only allowed after in or !in"],
    ["attribute:stack == 'prod", "no closing '"],
    ["agentVersion in [1.0]", "operator 'in' is not valid for agentVersion"],
    ["agentVersion > latest", "agentVersion compares with a version"],
    ["registeredAt < yesterday", "registeredAt takes a date"],
    ["registeredAt < 2018-02-30", "registeredAt takes a date"],
    ["registeredAt < 2018-02-13T25:00:00Z", "registeredAt takes a date"],
    ["registeredAt =~ 2018.*", "operator '=~' is not valid for registeredAt"],
    ["runningTasksCount > -1", "runningTasksCount compares with a whole number"],
    ["runningTasksCount exists", "operator 'exists' is not valid"],
    ["agentConnected == yes", "agentConnected compares with true or false"],
    ["ec2InstanceId > i-1", "operator '>' is not valid for ec2InstanceId"],
    ["task:group exists", "operator 'exists' is not valid for task:group"],
    ["attribute:x =~ (a", "position 16: invalid regular expression: unclosed group"],
    ["attribute:x =~ (a)\\1", "back-references are not supported"],
    ["attribute:x =~ a(?=b)", "look-ahead and look-behind are not supported"],
    ["attribute:x =~ (?>a)", "atomic groups are not supported"],
    ["attribute:x =~ a*+", "possessive quantifiers are not supported"],
    ["attribute:x =~ *a", "nothing to repeat"],
    ["attribute:x =~ a{3,2}", "m < n"],
    ["attribute:x =~ [a-z&&[^b]]", "not supported"],
    ["attribute:x =~ (?m)a", "unsupported inline flag 'm'"],
    ["attribute:x =~ \\p{L}", "POSIX classes"],
    ["attribute:x =~ '((a{1000}){1000})'", "too complex"],
    ["attribute:x =~ [z-a]", "out of order"],
    [`${"(".repeat(60)}agentConnected == true${")".repeat(60)}`, "nesting is deeper than 50"],
  ])("%j", (text, problem) => {
    const parsed = parseExpression(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.rejection.code).toBe("InvalidParameterException");
    expect(parsed.rejection.message).toMatch(/^Invalid expression/);
    expect(parsed.rejection.message).toContain(problem);
  });

  test(`expressions up to ${MAX_EXPRESSION_LENGTH} characters are accepted, longer ones refused`, () => {
    const item = "attribute:stack == prod";
    const longest = `${item}${" or attribute:stack == prod".repeat(100)}`.slice(0, 2000 - 4).replace(/ [^ ]*$/, "");
    const exact = `${longest}${" ".repeat(MAX_EXPRESSION_LENGTH - longest.length)}`;
    expect(exact.length).toBe(MAX_EXPRESSION_LENGTH);
    expect(parseExpression(exact).ok).toBe(true);
    const over = parseExpression(`${exact} `);
    expect(over.ok).toBe(false);
    if (!over.ok) expect(over.rejection.message).toContain("the limit is 2000");
  });
});

describe("dependsOnTasks", () => {
  test.each([
    ["attribute:stack == prod", false],
    ["agentVersion > 1 and registeredAt > 2018-01-01", false],
    ["not(task:group == database)", true],
    ["attribute:stack == prod or runningTasksCount == 0", true],
  ])("%s → %s", (text, expected) => {
    const parsed = parseExpression(text);
    expect(parsed.ok && dependsOnTasks(parsed.expr)).toBe(expected);
  });
});
