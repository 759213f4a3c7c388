import type { Logger } from "pino";
import type { Scope } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { latestActive } from "../../../machines/taskdef/taskdef.decide.ts";
import type { ApiServices } from "../context.ts";
import { EcsError } from "../errors.ts";
import type { RequestHead } from "../http-head.ts";
import { type AccessKey, loadCredentials } from "./credentials.ts";
import { deniedMessage, evaluate } from "./policy.ts";
import { type ResourceLookup, resourcesFor } from "./resources.ts";
import { verifySigV4 } from "./sigv4.ts";

/** Who sent a request, as proven by its signature. */
export interface Identity {
  accessKeyId: string;
  /** ARN of the principal (registeredBy / createdBy of what it creates). */
  principal: string;
  /** Region of the SigV4 credential scope. */
  region: string;
}

/**
 * The API edge's gate: `authenticate` before anything is read from the body, `authorize` once
 * the action and its input are known. Both throw the ECS error to answer with.
 */
export interface ApiAuth {
  authenticate(req: RequestHead, body: Buffer): Identity;
  authorize(who: Identity, action: string, input: Record<string, unknown>, scope: Scope, services: ApiServices): void;
}

export interface ApiAuthOptions {
  /** Wall clock for signature freshness (default Date.now): real time, not a test's pinned clock. */
  clock?: () => number;
}

const SERVICE = "ecs";

export function createApiAuth(keys: ReadonlyMap<string, AccessKey>, opts: ApiAuthOptions = {}): ApiAuth {
  const clock = opts.clock ?? Date.now;
  return {
    authenticate(req, body) {
      const headers: Record<string, string[] | undefined> = req.headersDistinct;
      const v = verifySigV4(
        { method: req.method ?? "POST", url: req.url ?? "/", headers, body },
        { service: SERVICE, now: clock(), lookup: (id) => keys.get(id) },
      );
      const key = keys.get(v.accessKeyId) as AccessKey;
      return { accessKeyId: key.accessKeyId, principal: key.principal, region: v.region };
    },
    authorize(who, action, input, scope, services) {
      const key = keys.get(who.accessKeyId);
      const policies = key?.policies ?? [];
      for (const resource of resourcesFor(action, input, scope, lookupIn(services))) {
        const request = { action: `${SERVICE}:${action}`, resource };
        const decision = evaluate(policies, request);
        if (decision !== "Allow")
          throw new EcsError("AccessDeniedException", deniedMessage(who.principal, request, decision));
      }
    },
  };
}

function lookupIn(services: ApiServices): ResourceLookup {
  return {
    latestRevision(region, family) {
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) return undefined;
      const agg = services.model.taskDefinitions.get(subjects.taskDefinition(region, family));
      return agg ? latestActive(agg.snapshot)?.revision : undefined;
    },
  };
}

/**
 * The gate for a server: from the credentials file when one is configured, else none (open
 * development mode, which the API server announces when it starts).
 */
export async function apiAuthFromFile(
  path: string | undefined,
  account: string,
  log: Logger,
): Promise<ApiAuth | undefined> {
  if (!path) return undefined;
  const keys = await loadCredentials(path, account);
  const withoutPolicy = [...keys.values()].filter((k) => k.policies.length === 0).map((k) => k.accessKeyId);
  if (withoutPolicy.length > 0) {
    log.warn({ accessKeys: withoutPolicy }, "access keys without policies are denied every action");
  }
  log.info({ file: path, accessKeys: keys.size }, "ECS API requires SigV4 signatures from the configured access keys");
  return createApiAuth(keys);
}
