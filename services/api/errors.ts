import type { z } from "zod";

/**
 * An error in ECS's words: `__type` code, `message`, HTTP status. Everything the API refuses is
 * one of these; anything else that escapes a handler is a ServerException (500) and is logged.
 */
export class EcsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new EcsError("InvalidParameterException", message);
export const clientError = (message: string) => new EcsError("ClientException", message);
export const clusterNotFound = () => new EcsError("ClusterNotFoundException", "Cluster not found.");

/**
 * Parses a request body member set with zod; a wrong type or missing member names the path.
 * `schema` is a module constant, never built per call: zod compiles each schema object on its first
 * use, which per request cost more than the handler's work (test/unit/api.input-schemas.test.ts).
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, code = "InvalidParameterException"): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue ? formatPath(issue.path) : "";
  throw new EcsError(code, describeIssue(path, issue));
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function describeIssue(path: string, issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "Invalid request.";
  const where = path || "request";
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? `${where} is required.`
        : `${where} must be of type ${issue.expected}.`;
    case "invalid_value":
      return `${where} must be one of: ${issue.values.map(String).join(", ")}.`;
    case "too_big":
      return `${where} must have at most ${String(issue.maximum)} ${issue.origin === "string" ? "characters" : issue.origin === "array" ? "items" : ""}`.trimEnd() + ".";
    case "too_small":
      return `${where} must have at least ${String(issue.minimum)} ${issue.origin === "string" ? "characters" : issue.origin === "array" ? "items" : ""}`.trimEnd() + ".";
    case "unrecognized_keys":
      return `Unknown member${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")} in ${where}.`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Turns a command outcome's rejection into the ECS error it is. */
export async function unwrap<T extends { ok: true }>(
  p: Promise<T | { ok: false; rejection: { code: string; message: string } }>,
): Promise<T> {
  const r = await p;
  if (!r.ok) throw new EcsError(r.rejection.code, r.rejection.message);
  return r;
}
