import type { z } from "zod";
import type { Rejection } from "./decider.ts";

/**
 * A request's shape, checked by a zod schema, in ECS's words. AWS's JSON servers read a request
 * in two steps, and so do the messages here:
 *
 * - Deserializing: a member of the wrong JSON type never reaches the operation. ECS answers it
 *   with `SerializationException` and says which kind of value it could not convert ("STRING_VALUE
 *   cannot be converted to Integer", as ECS answered UpdateService's minimumHealthyPercent sent as a
 *   string); here the member's path follows, which ECS leaves out. `null` is "not set".
 * - Validating: a missing required member, a number that is not an integer, a value outside its
 *   enum, a length out of range. These take the operation's code (`InvalidParameterException`
 *   unless the operation answers shape errors as `ClientException`).
 */
export function shapeRejection(issue: z.core.$ZodIssue | undefined, input: unknown, code = "InvalidParameterException"): Rejection {
  if (!issue) return { code, message: "Invalid request." };
  const where = formatPath(issue.path) || "request";
  switch (issue.code) {
    case "invalid_type": {
      const value = valueAt(input, issue.path);
      if (value === undefined) return { code, message: `${where} is required.` };
      if (value === null) return { code, message: `${where} must not be null.` }; // in a list: kept by dropNulls
      if (issue.expected === "int" && typeof value === "number") return { code, message: `${where} must be an integer.` };
      const member = issue.path.length > 0 ? ` (member ${where})` : "";
      return { code: "SerializationException", message: `${unconvertible(value, issue.expected)}${member}.` };
    }
    case "invalid_value":
      return { code, message: `${where} must be one of: ${issue.values.map(String).join(", ")}.` };
    case "too_big":
      return { code, message: `${where} must have at most ${String(issue.maximum)}${unitOf(issue.origin)}.` };
    case "too_small":
      return { code, message: `${where} must have at least ${String(issue.minimum)}${unitOf(issue.origin)}.` };
    case "unrecognized_keys":
      return { code, message: `Unknown member${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")} in ${where}.` };
    default:
      return { code, message: `${where} is invalid: ${issue.message}` };
  }
}

/** What ECS's deserializer says of a value it cannot read as the type the model wants. */
function unconvertible(value: unknown, expected: string): string {
  if (Array.isArray(value)) return "Start of list found where not expected";
  if (typeof value === "object") return "Start of structure or map found where not expected";
  const kind = typeof value === "string" ? "STRING_VALUE" : typeof value === "boolean" ? "BOOLEAN_VALUE" : "NUMBER_VALUE";
  return `${kind} cannot be converted to ${MODEL_TYPES[expected] ?? expected}`;
}

/** zod's expected types as ECS's model names them (every number in ECS's requests is an Integer but a few Doubles, none of which a schema here types). */
const MODEL_TYPES: Record<string, string> = {
  int: "Integer",
  number: "Integer",
  string: "String",
  boolean: "Boolean",
  array: "List",
  object: "Structure",
  record: "Map",
};

function unitOf(origin: string): string {
  return origin === "string" ? " characters" : origin === "array" ? " items" : "";
}

/**
 * AWS JSON servers treat `null` as "member not set"; console exports are full of nulls, and users
 * feed them back. Nulls inside lists are kept so that they fail type validation.
 */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((x) => (x !== null && typeof x === "object" ? dropNulls(x) : x));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/** `containerDefinitions[0].portMappings[1].hostPort` */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}
