import { expect } from "vitest";

/**
 * Helpers for the API contract tests: a raw awsJson1_1 call (to see the wire itself: headers,
 * JSON types, absent members) and ECS error matching for the real SDK's exceptions.
 */

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

/**
 * POSTs an ECS action the way the SDK does, with a SigV4-shaped Authorization header whose
 * credential scope names `region` (Berth reads the region from it; the signature is not checked
 * in open development mode).
 */
export async function rawCall(
  endpoint: string,
  action: string,
  body: unknown,
  opts: { region?: string; target?: string; rawBody?: string } = {},
): Promise<RawAnswer> {
  const region = opts.region ?? "us-east-1";
  const res = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": opts.target ?? `AmazonEC2ContainerServiceV20141113.${action}`,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDBERTHTEST0000000/20250101/${region}/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
      "x-amz-date": "20250101T000000Z",
    },
    body: opts.rawBody ?? JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Every path in `value` whose value is JSON null (ECS omits absent members instead). */
export function nullPaths(value: unknown, path = "$"): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullPaths(v, `${path}[${i}]`));
  if (typeof value === "object")
    return Object.entries(value as object).flatMap(([k, v]) => nullPaths(v, `${path}.${k}`));
  return [];
}

/** The SDK's modeled (or generic) exception for an ECS error: name = code, message, HTTP 400. */
export async function expectEcsError(p: Promise<unknown>, code: string, message?: string | RegExp, status = 400) {
  const err = (await p.then(
    (v) => {
      throw new Error(`expected ${code}, got success: ${JSON.stringify(v).slice(0, 400)}`);
    },
    (e: unknown) => e,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  expect(err.name, err.message).toBe(code);
  expect(err.$metadata?.httpStatusCode).toBe(status);
  expect(err.$metadata?.requestId).toMatch(UUID);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ACCOUNT = "000000000000";
