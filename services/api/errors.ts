import type { z } from "zod";
import type { Rejection } from "../../machines/decider.ts";
import { dropNulls, shapeRejection } from "../../machines/input-shape.ts";

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
 * Parses a request body member set with zod; a refusal names the member (machines/input-shape.ts):
 * a value of the wrong JSON type is a SerializationException, as ECS answers it, anything else
 * `code`. `null` members are "not set", as AWS's JSON servers read them: only a request that fails
 * as sent is parsed again without them, so the common request pays for no copy. `schema` is a
 * module constant, never built per call: zod compiles each schema object on its first use, which
 * per request cost more than the handler's work (test/unit/api.input-schemas.test.ts).
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, code = "InvalidParameterException"): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const clean = dropNulls(input);
  const again = schema.safeParse(clean);
  if (again.success) return again.data;
  const refusal = shapeRejection(again.error.issues[0], clean, code);
  throw new EcsError(refusal.code, refusal.message);
}

/** Throws a pure check's rejection as the ECS error it is; returns when there is none. */
export function rejectWith(rejection: Rejection | undefined): void {
  if (rejection) throw new EcsError(rejection.code, rejection.message);
}

/** Turns a command outcome's rejection into the ECS error it is. */
export async function unwrap<T extends { ok: true }>(
  p: Promise<T | { ok: false; rejection: { code: string; message: string } }>,
): Promise<T> {
  const r = await p;
  if (!r.ok) throw new EcsError(r.rejection.code, r.rejection.message);
  return r;
}
