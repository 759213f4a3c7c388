import { fullMatch, type JavaRegex } from "./cql.regex.vm.ts";
import {
  compareText,
  compareVersions,
  orderHolds,
  parseAgentVersion,
  toWholeSecond,
  type Version,
} from "./cql.values.ts";
import type { InstanceView } from "./types.ts";
import { attributeValue, groupCount } from "./view.ts";

/**
 * ECS's cluster query language: the `memberOf` constraint's expression and ListContainerInstances'
 * `filter`. `parseExpression` turns text into a tree (or an InvalidParameterException);
 * `evaluate` answers it for one instance. Both are pure; `evaluate` does not modify its input.
 *
 *   expression := or
 *   or         := and { ("||" | "or") and }
 *   and        := unary { ("&&" | "and") unary }
 *   unary      := ("!" | "not") unary | "(" or ")" | subject operator [argument]
 *
 * Semantics (ECS documents the syntax, not every edge; where it is silent the choice is noted):
 *  - A subject the instance lacks (attribute not set, no ec2InstanceId, no agentVersion) satisfies
 *    only `!exists`; every comparison with it is false, negative ones included. ECS's own example
 *    "attribute:stack != prod" lists instances that have `stack` with another value.
 *  - A valueless attribute (capability attributes) exists; positive comparisons are false and
 *    negative ones (`!=`, `!in`, `!~`) true.
 *  - `task:group` asks whether the instance runs a task of the group: `==`, `in` and `=~` hold
 *    when one of its groups matches; `!=`, `!in` and `!~` are their negations, so
 *    `task:group != database` is the same anti-affinity as `not(task:group == database)`.
 *  - agentVersion compares numerically per component, registeredAt as instants (whole
 *    seconds), runningTasksCount as a number; attribute ordering is numeric when both sides are
 *    numbers and by code units otherwise; `==` on strings is exact and case-sensitive.
 *  - `=~` must match the whole value (Java's `matches()`); see cql.regex.ts for the dialect.
 *  - Keywords (subjects, word operators, and/or/not) are case-insensitive; attribute names and
 *    values are not.
 */

export type Subject =
  | { kind: "agentConnected" }
  | { kind: "agentVersion" }
  | { kind: "attribute"; name: string }
  | { kind: "ec2InstanceId" }
  | { kind: "registeredAt" }
  | { kind: "runningTasksCount" }
  | { kind: "taskGroup" };

/** Canonical spellings; the word forms (equals, not_in, matches, …) parse to these. */
export type Operator = "==" | "!=" | ">" | ">=" | "<" | "<=" | "exists" | "!exists" | "in" | "!in" | "=~" | "!~";

export type Argument =
  | { kind: "none" }
  | { kind: "text"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "regex"; regex: JavaRegex }
  | { kind: "count"; value: number }
  | { kind: "version"; version: Version }
  | { kind: "time"; at: number };

export interface Test {
  kind: "test";
  subject: Subject;
  op: Operator;
  arg: Argument;
}

export type Expr = { kind: "and"; items: Expr[] } | { kind: "or"; items: Expr[] } | { kind: "not"; expr: Expr } | Test;

export { MAX_EXPRESSION_LENGTH, parseExpression } from "./cql.parse.ts";

/** Whether the instance satisfies the expression. */
export function evaluate(expr: Expr, instance: InstanceView): boolean {
  switch (expr.kind) {
    case "and":
      for (const e of expr.items) if (!evaluate(e, instance)) return false;
      return true;
    case "or":
      for (const e of expr.items) if (evaluate(e, instance)) return true;
      return false;
    case "not":
      return !evaluate(expr.expr, instance);
    case "test":
      return test(expr, instance);
  }
}

/**
 * True when the answer can change as tasks are placed (task:group, runningTasksCount); placement
 * evaluates such expressions per task and the rest once per instance.
 */
export function dependsOnTasks(expr: Expr): boolean {
  switch (expr.kind) {
    case "and":
    case "or":
      return expr.items.some(dependsOnTasks);
    case "not":
      return dependsOnTasks(expr.expr);
    case "test":
      return expr.subject.kind === "taskGroup" || expr.subject.kind === "runningTasksCount";
  }
}

/** The positive operator a negative one negates. */
const NEGATES: Partial<Record<Operator, Operator>> = { "!=": "==", "!in": "in", "!~": "=~" };

function test(t: Test, v: InstanceView): boolean {
  const { subject, op, arg } = t;
  switch (subject.kind) {
    case "taskGroup":
      return groupTest(op, arg, v);
    case "agentVersion": {
      const version = v.agentVersion === undefined ? undefined : parseAgentVersion(v.agentVersion);
      return version !== undefined && arg.kind === "version" && ordered(op, compareVersions(version, arg.version));
    }
    case "registeredAt":
      return arg.kind === "time" && ordered(op, toWholeSecond(v.registeredAt) - arg.at);
    case "runningTasksCount":
      return arg.kind === "count" && ordered(op, v.runningTasksCount - arg.value);
    case "agentConnected":
      return textTest(op, arg, String(v.agentConnected));
    case "ec2InstanceId":
      return textTest(op, arg, v.ec2InstanceId || undefined);
    case "attribute":
      return textTest(op, arg, attributeValue(v, subject.name));
  }
}

const ordered = (op: Operator, cmp: number): boolean =>
  op === "==" || op === "!=" || op === ">" || op === ">=" || op === "<" || op === "<=" ? orderHolds(op, cmp) : false;

/** `value`: undefined when the subject is absent, null when present without a value. */
function textTest(op: Operator, arg: Argument, value: string | null | undefined): boolean {
  if (op === "exists") return value !== undefined;
  if (op === "!exists") return value === undefined;
  if (value === undefined) return false;
  const positive = NEGATES[op];
  if (positive) return value === null || !textHolds(positive, arg, value);
  return value !== null && textHolds(op, arg, value);
}

function textHolds(op: Operator, arg: Argument, value: string): boolean {
  switch (arg.kind) {
    case "list":
      return arg.items.includes(value);
    case "regex":
      return fullMatch(arg.regex, value);
    case "text":
      return op === "==" ? value === arg.text : ordered(op, compareText(value, arg.text));
    default:
      return false;
  }
}

function groupTest(op: Operator, arg: Argument, v: InstanceView): boolean {
  const positive = NEGATES[op];
  if (positive) return !groupTest(positive, arg, v);
  switch (arg.kind) {
    case "text":
      return op === "==" && groupCount(v, arg.text) > 0;
    case "list":
      for (const g of arg.items) if (groupCount(v, g) > 0) return true;
      return false;
    case "regex":
      for (const g of Object.keys(v.taskGroups)) if (groupCount(v, g) > 0 && fullMatch(arg.regex, g)) return true;
      return false;
    default:
      return false;
  }
}
