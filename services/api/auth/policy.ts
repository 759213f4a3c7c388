import { z } from "zod";

/**
 * IAM-style identity policies, evaluated the way IAM evaluates them for one principal:
 *
 *   any matching Deny statement  → ExplicitDeny   (wins over everything)
 *   else any matching Allow      → Allow
 *   else                         → ImplicitDeny   (nothing granted means denied)
 *
 * A statement matches a request when its Action (or NotAction) matches the action and its
 * Resource (or NotResource) matches the resource. Patterns use IAM's wildcards: `*` any run of
 * characters, `?` one character. Actions match case-insensitively (`ecs:describe*` matches
 * `ecs:DescribeTasks`), resources case-sensitively, as in IAM.
 *
 * Conditions are not supported: a policy with a Condition is refused when the credentials are
 * loaded, because ignoring one would grant more than its author meant. Pure: no I/O.
 */

const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const PolicyStatement = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: OneOrMany.optional(),
    NotAction: OneOrMany.optional(),
    Resource: OneOrMany.optional(),
    NotResource: OneOrMany.optional(),
  })
  .strict()
  .refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), {
    message: "a statement needs exactly one of Action and NotAction",
  })
  .refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), {
    message: "a statement needs exactly one of Resource and NotResource",
  });
export type PolicyStatement = z.infer<typeof PolicyStatement>;

export const PolicyDocument = z
  .object({
    Version: z.enum(["2012-10-17", "2008-10-17"]).optional(),
    Id: z.string().optional(),
    Statement: z.union([PolicyStatement, z.array(PolicyStatement)]),
  })
  .strict();
export type PolicyDocument = z.infer<typeof PolicyDocument>;

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

export interface AccessRequest {
  /** `service:Action`, e.g. `ecs:RunTask`. */
  action: string;
  /** The resource ARN, or `*` for actions that have no resource-level permissions. */
  resource: string;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : v);

const compiled = new Map<string, RegExp>();

/** IAM wildcard pattern → anchored RegExp (cached; policies are few and reused on every request). */
function globRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `${caseInsensitive ? "i" : "s"}:${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    let src = "";
    for (const ch of pattern) {
      if (ch === "*") src += "[\\s\\S]*";
      else if (ch === "?") src += "[\\s\\S]";
      else src += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
    }
    re = new RegExp(`^${src}$`, caseInsensitive ? "iu" : "u");
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

export function matchesAction(pattern: string, action: string): boolean {
  return globRegExp(pattern, true).test(action);
}

export function matchesResource(pattern: string, resource: string): boolean {
  return globRegExp(pattern, false).test(resource);
}

function statementMatches(s: PolicyStatement, r: AccessRequest): boolean {
  const action =
    s.Action !== undefined
      ? list(s.Action).some((p) => matchesAction(p, r.action))
      : !list(s.NotAction).some((p) => matchesAction(p, r.action));
  if (!action) return false;
  return s.Resource !== undefined
    ? list(s.Resource).some((p) => matchesResource(p, r.resource))
    : !list(s.NotResource).some((p) => matchesResource(p, r.resource));
}

/** Every statement of every policy, in order. */
export function statementsOf(policies: readonly PolicyDocument[]): PolicyStatement[] {
  return policies.flatMap((p) => (Array.isArray(p.Statement) ? p.Statement : [p.Statement]));
}

/** The decision for one request under a principal's identity policies. Does not modify its input. */
export function evaluate(policies: readonly PolicyDocument[], request: AccessRequest): Decision {
  let allowed = false;
  for (const s of statementsOf(policies)) {
    if (!statementMatches(s, request)) continue;
    if (s.Effect === "Deny") return "ExplicitDeny";
    allowed = true;
  }
  return allowed ? "Allow" : "ImplicitDeny";
}

/**
 * The AccessDeniedException message, in IAM's words: which principal, which action, which
 * resource, and whether a Deny statement or the absence of an Allow refused it.
 */
export function deniedMessage(principal: string, request: AccessRequest, decision: Exclude<Decision, "Allow">): string {
  const why =
    decision === "ExplicitDeny"
      ? "with an explicit deny in an identity-based policy"
      : `because no identity-based policy allows the ${request.action} action`;
  return `User: ${principal} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
}
