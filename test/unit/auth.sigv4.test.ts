import { describe, expect, test } from "vitest";
import { EcsError } from "../../services/api/errors.ts";
import { type KeyRecord, type SignedRequest, verifySigV4 } from "../../services/api/auth/sigv4.ts";
import { type RawRequest, type SigningCredentials, signRequest } from "../support/sigv4-signer.ts";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const KEY: SigningCredentials = { accessKeyId: "AKIDBERTHUNIT0000001", secretAccessKey: "unit-secret" };
const TOKEN_KEY: SigningCredentials = {
  accessKeyId: "ASIABERTHUNIT0000002",
  secretAccessKey: "session-secret",
  sessionToken: "FwoGZXIvYXdzEXAMPLE//token+with/odd=chars",
};
const KEYS = new Map<string, KeyRecord>([
  [KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey, sessionTokens: [] }],
  [
    TOKEN_KEY.accessKeyId,
    { secretAccessKey: TOKEN_KEY.secretAccessKey, sessionTokens: [TOKEN_KEY.sessionToken as string] },
  ],
]);

const BASE: RawRequest = {
  host: "127.0.0.1:8417",
  headers: {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters",
    "x-amz-user-agent": "aws-sdk-js/3 ua/2.1",
  },
  body: '{"maxResults":10}',
};

/** What the server sees of a request: lower-case names, values as lists, the body as bytes. */
function received(r: RawRequest, headers: Record<string, string>): SignedRequest {
  const query = new URLSearchParams(r.query ?? {}).toString();
  const h: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = [v];
  return {
    method: r.method ?? "POST",
    url: `${r.path ?? "/"}${query ? `?${query}` : ""}`,
    headers: h,
    body: Buffer.from(r.body),
  };
}

async function signed(
  r: RawRequest = BASE,
  creds: SigningCredentials = KEY,
  opts: { region?: string; service?: string; at?: Date } = {},
): Promise<SignedRequest> {
  return received(r, await signRequest(r, creds, { at: new Date(NOW), ...opts }));
}

const verify = (req: SignedRequest, now = NOW) =>
  verifySigV4(req, { service: "ecs", now, lookup: (id) => KEYS.get(id) });

function refusal(req: SignedRequest, now = NOW): { code: string; message: string; status: number } {
  try {
    verify(req, now);
  } catch (err) {
    if (err instanceof EcsError) return { code: err.code, message: err.message, status: err.status };
    throw err;
  }
  throw new Error("the request was accepted");
}

const withHeader = (req: SignedRequest, name: string, value: string | undefined): SignedRequest => ({
  ...req,
  headers: { ...req.headers, [name]: value === undefined ? undefined : [value] },
});

describe("requests signed by the AWS SDK's signer", () => {
  test("are accepted, with the region of the credential scope", async () => {
    expect(verify(await signed())).toEqual({ accessKeyId: KEY.accessKeyId, region: "us-east-1" });
    expect(verify(await signed(BASE, KEY, { region: "eu-west-3" })).region).toBe("eu-west-3");
  });

  test.each([
    ["a base path", { path: "/ecs/api" }],
    ["a path with encoded characters", { path: "/ecs/a%20b/%C3%A9/" }],
    ["a query string", { query: { b: "2", a: "1 2", "c~": "x*" } }],
    ["an empty body", { body: "" }],
    ["unicode in the body", { body: '{"clusterName":"名前 🚢"}' }],
    ["a GET", { method: "GET", body: "" }],
  ])("are accepted with %s", async (_name, change) => {
    const r = { ...BASE, ...change };
    expect(verify(await signed(r)).accessKeyId).toBe(KEY.accessKeyId);
  });

  test("are accepted up to 5 minutes off the server's clock, either way", async () => {
    expect(verify(await signed(), NOW + 4 * 60_000).region).toBe("us-east-1");
    expect(verify(await signed(), NOW - 4 * 60_000).region).toBe("us-east-1");
  });

  test("with a session token are accepted only with that token", async () => {
    expect(verify(await signed(BASE, TOKEN_KEY)).accessKeyId).toBe(TOKEN_KEY.accessKeyId);
    const withoutToken = await signed(BASE, { ...TOKEN_KEY, sessionToken: undefined });
    expect(refusal(withoutToken).code).toBe("UnrecognizedClientException");
    const wrongToken = await signed(BASE, { ...TOKEN_KEY, sessionToken: "another-token" });
    expect(refusal(wrongToken).code).toBe("UnrecognizedClientException");
    const tokenForLongTermKey = await signed(BASE, { ...KEY, sessionToken: "unexpected" });
    expect(refusal(tokenForLongTermKey).code).toBe("UnrecognizedClientException");
  });
});

describe("refusals, in AWS's words (all HTTP 400)", () => {
  test("no Authorization header", async () => {
    expect(refusal(withHeader(await signed(), "authorization", undefined))).toEqual({
      code: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
      status: 400,
    });
  });

  test("an unknown access key", async () => {
    expect(refusal(await signed(BASE, { accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" }))).toEqual({
      code: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
      status: 400,
    });
  });

  test("a wrong secret", async () => {
    const r = refusal(await signed(BASE, { ...KEY, secretAccessKey: "wrong" }));
    expect(r.code).toBe("InvalidSignatureException");
    expect(r.status).toBe(400);
    expect(r.message).toMatch(
      /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\./,
    );
    expect(r.message).toContain("The Canonical String for this request should have been\n'POST\n/\n\n");
  });

  test("a body changed after signing", async () => {
    const req = await signed();
    expect(refusal({ ...req, body: Buffer.from('{"maxResults":11}') }).code).toBe("InvalidSignatureException");
  });

  test("a signed header changed after signing", async () => {
    const req = withHeader(await signed(), "x-amz-target", "AmazonEC2ContainerServiceV20141113.DeleteCluster");
    expect(refusal(req).code).toBe("InvalidSignatureException");
  });

  test("a signature more than 5 minutes old", async () => {
    const r = refusal(await signed(), NOW + 6 * 60_000);
    expect(r).toEqual({
      code: "InvalidSignatureException",
      message: "Signature expired: 20260115T120000Z is now earlier than 20260115T120100Z (20260115T120600Z - 5 min.)",
      status: 400,
    });
  });

  test("a signature more than 5 minutes in the future", async () => {
    expect(refusal(await signed(), NOW - 6 * 60_000)).toEqual({
      code: "InvalidSignatureException",
      message:
        "Signature not yet current: 20260115T120000Z is still later than 20260115T115900Z (20260115T115400Z + 5 min.)",
      status: 400,
    });
  });

  test("a credential scoped to another service", async () => {
    expect(refusal(await signed(BASE, KEY, { service: "s3" }))).toMatchObject({
      code: "InvalidSignatureException",
      message: "Credential should be scoped to correct service: 'ecs'.",
    });
  });

  test("a credential scope date that is not the request's date", async () => {
    const req = await signed();
    const auth = String(req.headers.authorization?.[0]).replace("/20260115/", "/20260114/");
    expect(refusal(withHeader(req, "authorization", auth)).message).toMatch(/^Date in Credential scope does not match/);
  });

  test("a declared payload hash that is not the body's", async () => {
    const req = withHeader(await signed(), "x-amz-content-sha256", "0".repeat(64));
    expect(refusal(req).code).toBe("InvalidSignatureException");
  });

  test.each([
    ["another scheme", "Bearer abc"],
    [
      "another algorithm",
      "AWS4-HMAC-SHA512 Credential=a/20260115/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=00",
    ],
    ["no Credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"],
    ["no Signature", "AWS4-HMAC-SHA256 Credential=a/20260115/us-east-1/ecs/aws4_request, SignedHeaders=host"],
    ["a pair without '='", "AWS4-HMAC-SHA256 Credential"],
    ["a short Credential", "AWS4-HMAC-SHA256 Credential=a/20260115/us-east-1, SignedHeaders=host, Signature=00"],
  ])("a malformed Authorization header: %s", async (_name, value) => {
    const req = withHeader(await signed(), "authorization", value);
    expect(refusal(req).code).toBe("IncompleteSignatureException");
  });

  test("a malformed X-Amz-Date", async () => {
    const req = withHeader(await signed(), "x-amz-date", "20261399T250000Z");
    expect(refusal(req).code).toBe("IncompleteSignatureException");
  });

  test("an unsigned Host header", async () => {
    const req = await signed();
    const auth = String(req.headers.authorization?.[0]).replace(/SignedHeaders=[^,]+/, "SignedHeaders=x-amz-date");
    expect(refusal(withHeader(req, "authorization", auth)).message).toBe(
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });
});
