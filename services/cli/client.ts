import { createHash, createHmac } from "node:crypto";
import { ECSClient } from "@aws-sdk/client-ecs";
import { amzDate, canonicalRequest, signingKey } from "../api/auth/sigv4.ts";
import { env, UsageError, type Values } from "./args.ts";

/**
 * How the resource commands reach Berth: its ECS API through the real AWS SDK, so the CLI is one
 * more ECS client and sees exactly what any other client sees.
 */

export const DEFAULT_ENDPOINT = "http://127.0.0.1:8417";

/** Options every resource command takes. */
export const connectionOptions = {
  cluster: { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
} as const;

export const connectionHelp: [string, string][] = [
  ["--cluster NAME", "cluster (default $BERTH_CLUSTER or default)"],
  ["--endpoint URL", `Berth's ECS API (default $BERTH_ENDPOINT or ${DEFAULT_ENDPOINT})`],
  ["--region R", "region (default $BERTH_REGION, $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1)"],
  ["--json", "print the API's JSON (timestamps in ISO 8601, as the AWS CLI prints them)"],
];

export type { Values };

export interface Target {
  endpoint: string;
  region: string;
  cluster: string;
}

export function target(v: Values): Target {
  const endpoint = String(v.endpoint ?? env("BERTH_ENDPOINT", DEFAULT_ENDPOINT)).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/.test(endpoint)) throw new UsageError(`--endpoint takes an http(s) URL, not ${JSON.stringify(endpoint)}`);
  return {
    endpoint,
    region: String(v.region ?? process.env.BERTH_REGION ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1"),
    cluster: String(v.cluster ?? env("BERTH_CLUSTER", "default")),
  };
}

/**
 * Credentials: the SDK's own chain when the environment names any (keys or a profile); otherwise
 * fixed dummy keys — Berth reads the region from the SigV4 scope and, in open development mode,
 * checks no secret, so a fresh machine needs no AWS setup.
 */
const DUMMY_CREDENTIALS = { accessKeyId: "BERTHCLI000000000000", secretAccessKey: "berth-cli" };

function credentialsFromEnvironment(): boolean {
  return Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE || process.env.AWS_WEB_IDENTITY_TOKEN_FILE);
}

/** An ECS API error (or an unreachable endpoint): printed as `Code: message`, exit code 1. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * The SDK's HTTP agents, given a socket timeout of their own. The SDK's default agent keeps an
 * idle connection for ever, and Node's agent honours a server's `Keep-Alive: timeout=N` (closing
 * the connection a second before the server would) only when it has such a timeout: without
 * one, a request can leave on a connection at the moment the server closes it and meet a reset
 * ("socket hang up"). A minute is also the idle limit when a server announces none. In flight,
 * the timeout does nothing: Node's agent ends only idle sockets on it.
 */
export function sdkHttpAgents(): { httpAgent: { timeout: number }; httpsAgent: { timeout: number } } {
  return { httpAgent: { timeout: IDLE_SOCKET_MS }, httpsAgent: { timeout: IDLE_SOCKET_MS } };
}

const IDLE_SOCKET_MS = 60_000;

export function ecsClient(t: Target): ECSClient {
  const client = new ECSClient({
    endpoint: t.endpoint,
    region: t.region,
    requestHandler: sdkHttpAgents(),
    ...(credentialsFromEnvironment() ? {} : { credentials: DUMMY_CREDENTIALS }),
  });
  // Outermost step, after the SDK's retries: every failure leaves as one readable ApiError.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw toApiError(err, t.endpoint);
      }
    },
    { step: "initialize", name: "berthCliErrors" },
  );
  return client;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "EAI_AGAIN"]);

export function toApiError(err: unknown, endpoint: string): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: unknown; cause?: { code?: string } };
  const networkCode = e.code ?? e.cause?.code;
  if (networkCode && NETWORK_CODES.has(networkCode)) {
    return new ApiError(
      "EndpointUnreachable",
      `cannot reach Berth's ECS API at ${endpoint} (${networkCode}). Start it with \`berth up\`, or point --endpoint / $BERTH_ENDPOINT at it.`,
    );
  }
  if (e.$metadata !== undefined && e.name) return new ApiError(e.name, e.message ?? "");
  return new ApiError(e.name && e.name !== "Error" ? e.name : "ClientError", e.message ?? String(err));
}

/** The SDK's output as the API's JSON: without the SDK's response metadata; Dates print as ISO 8601. */
export function printJson(output: object): void {
  const { $metadata: _m, ...rest } = output as { $metadata?: unknown };
  console.log(JSON.stringify(rest, null, 2));
}

/** ECS reports per-item problems as `failures`; a command that met any fails (exit code 1). */
export interface Failure {
  arn?: string;
  reason?: string;
  detail?: string;
}

export function failureText(failures: readonly Failure[]): string {
  return failures
    .map((f) =>
      // MISSING: the API knows no such resource; say so by the name given, not as a bare reason.
      f.reason === "MISSING" && f.arn
        ? `${[resourceKind(f.arn), idOf(f.arn)].filter(Boolean).join(" ")} not found${f.detail ? ` (${f.detail})` : ""}`
        : `${f.reason ?? "FAILURE"}${f.arn ? ` ${f.arn}` : ""}${f.detail ? ` (${f.detail})` : ""}`,
    )
    .join("; ");
}

/** "service", "task", "container instance", … from an ARN's resource type (nothing for a bare name). */
function resourceKind(arn: string): string | undefined {
  return /^arn:[^:]*:ecs:[^:]*:[^:]*:([a-z-]+)\//.exec(arn)?.[1]?.replaceAll("-", " ");
}

/** Parses a positive (or zero, when allowed) integer option. */
export function intOption(value: unknown, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(
      `${name} takes a whole number ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}, not ${JSON.stringify(text)}`,
    );
  return n;
}

/** The last path segment of an ARN (a task id, service name, instance id); the value itself otherwise. */
export const idOf = (arnOrId: string | undefined): string => (arnOrId ? (arnOrId.split("/").pop() ?? arnOrId) : "");

/**
 * GETs one of Berth's own HTTP routes (outside the ECS API), SigV4-signed with the client's
 * credentials exactly as an ECS call would be, so a server that requires signatures accepts it
 * and one in open development mode ignores it.
 */
export function signedGet(ecs: ECSClient, t: Target, pathAndQuery: string, signal?: AbortSignal): Promise<Response> {
  return signedRequest(ecs, t, "GET", pathAndQuery, undefined, signal);
}

/** Any method on one of Berth's own HTTP routes, signed as signedGet; `body` is sent as JSON. */
export async function signedRequest(
  ecs: ECSClient,
  t: Target,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  const url = new URL(pathAndQuery, `${t.endpoint}/`);
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body), "utf8");
  const creds = await ecs.config.credentials();
  const now = Date.now();
  const date = amzDate(now);
  const headers: Record<string, string> = { host: url.host, "x-amz-date": date };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (creds.sessionToken) headers["x-amz-security-token"] = creds.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = canonicalRequest(
    { method, url: `${url.pathname}${url.search}`, headers: Object.fromEntries(names.map((n) => [n, [headers[n] as string]])), body: payload },
    names,
    createHash("sha256").update(payload).digest("hex"),
  );
  const scope = `${date.slice(0, 8)}/${t.region}/ecs/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const signature = createHmac("sha256", signingKey(creds.secretAccessKey, date.slice(0, 8), t.region, "ecs")).update(toSign).digest("hex");
  const { host: _host, ...sent } = headers;
  try {
    return await fetch(url, {
      method,
      headers: { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}` },
      ...(body === undefined ? {} : { body: payload }),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    throw toApiError((err as { cause?: unknown }).cause ?? err, t.endpoint);
  }
}
