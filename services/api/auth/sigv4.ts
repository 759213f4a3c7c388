import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { EcsError } from "../errors.ts";

/**
 * AWS Signature Version 4 verification for the awsJson1_1 edge, computing the canonical request
 * exactly as the AWS SDKs and the AWS CLI sign it (header-based signing):
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
 *                      SignedHeaders \n hex(sha256(body))
 *   StringToSign     = AWS4-HMAC-SHA256 \n X-Amz-Date \n <date>/<region>/<service>/aws4_request \n
 *                      hex(sha256(CanonicalRequest))
 *   Signature        = hex(hmac(kSigning, StringToSign)),
 *   kSigning         = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), service), "aws4_request")
 *
 * The payload hash is always computed from the bytes received (a body changed in transit fails).
 * Refusals are ECS errors with AWS's codes and wording; every one is HTTP 400, as ECS answers.
 */

export interface SignedRequest {
  method: string;
  /** Path and query as received (`req.url`). */
  url: string;
  /** Lower-case header names → every value received for that header. */
  headers: Record<string, string[] | undefined>;
  body: Buffer;
}

export interface KeyRecord {
  secretAccessKey: string;
  /** When set, a request must carry one of these as X-Amz-Security-Token; when empty, none. */
  sessionTokens: readonly string[];
}

export interface VerifyOptions {
  service: string;
  /** Request time, epoch ms. */
  now: number;
  lookup(accessKeyId: string): KeyRecord | undefined;
}

export interface Verified {
  accessKeyId: string;
  region: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
/** AWS refuses a request signed more than 5 minutes before or after its own clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const REGION = /^[a-z0-9-]{1,32}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

const incomplete = (message: string) => new EcsError("IncompleteSignatureException", message);
const invalidSignature = (message: string) => new EcsError("InvalidSignatureException", message);
export const unrecognizedClient = () =>
  new EcsError("UnrecognizedClientException", "The security token included in the request is invalid.");
export const missingToken = () => new EcsError("MissingAuthenticationTokenException", "Missing Authentication Token");

const first = (h: SignedRequest["headers"], name: string): string | undefined => h[name]?.[0];

interface AuthorizationHeader {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export function parseAuthorization(value: string): AuthorizationHeader {
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${clip(algorithm)}'. Berth accepts ${ALGORITHM} only.`);
  }
  const params = new Map<string, string>();
  for (const part of value.slice(space + 1).split(",")) {
    const text = part.trim();
    if (text === "") continue;
    const eq = text.indexOf("=");
    if (eq < 0)
      throw incomplete(`'${clip(text)}' not a valid key=value pair (missing equal-sign) in Authorization header.`);
    params.set(text.slice(0, eq), text.slice(eq + 1));
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((k) => !params.get(k));
  if (missing.length > 0) {
    throw incomplete(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(" "));
  }
  const credential = (params.get("Credential") as string).split("/");
  if (credential.length !== 5 || credential.some((p) => p === "")) {
    throw incomplete(
      `Credential should be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request, not '${clip(params.get("Credential") as string)}'.`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: (params.get("SignedHeaders") as string).split(";"),
    signature: params.get("Signature") as string,
  };
}

/** `20240101T000000Z` → epoch ms; undefined when malformed. */
function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Rejects 20241341T256199Z and the like, which Date.UTC would silently roll over.
  const same =
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  return same ? ms : undefined;
}

export const amzDate = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** RFC 3986 percent-encoding, as AWS's canonical forms use it (encodeURIComponent plus !'()*). */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Canonical URI: dot segments removed, then every segment URI-encoded (non-S3 services encode the wire path again). */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const s of path.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") segments.pop();
    else segments.push(s);
  }
  const normalized = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return escapeUri(normalized).replace(/%2F/g, "/");
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, "%20"));
  } catch {
    return value;
  }
}

/** Canonical query: every pair decoded, re-encoded, sorted by name then value. */
export function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs = query
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? "" : p.slice(eq + 1);
      return [escapeUri(safeDecode(k)), escapeUri(safeDecode(v))] as const;
    });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

/** The canonical request the client must have signed. */
export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[], payloadHash: string): string {
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? "" : req.url.slice(q + 1);
  const headers = signedHeaders.map((name) => {
    const values = req.headers[name] ?? [];
    return `${name}:${values.map((v) => v.trim().replace(/\s+/g, " ")).join(",")}\n`;
  });
  return [
    req.method,
    canonicalUri(path),
    canonicalQuery(query),
    headers.join(""),
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

/**
 * Verifies a request's SigV4 Authorization header. Returns the access key and the region of the
 * credential scope; throws the ECS error AWS would give otherwise.
 */
export function verifySigV4(req: SignedRequest, opts: VerifyOptions): Verified {
  const authorization = first(req.headers, "authorization");
  if (authorization === undefined || authorization.trim() === "") throw missingToken();
  const auth = parseAuthorization(authorization.trim());

  const key = opts.lookup(auth.accessKeyId);
  if (!key) throw unrecognizedClient();
  const token = first(req.headers, "x-amz-security-token");
  if (key.sessionTokens.length > 0 ? token === undefined || !key.sessionTokens.includes(token) : token !== undefined) {
    throw unrecognizedClient();
  }

  const dateHeader = first(req.headers, "x-amz-date");
  const httpDate = first(req.headers, "date");
  if (dateHeader === undefined && httpDate === undefined) {
    throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const signedAt = dateHeader !== undefined ? parseAmzDate(dateHeader) : Date.parse(httpDate as string);
  if (signedAt === undefined || Number.isNaN(signedAt)) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${clip(dateHeader ?? (httpDate as string))}'.`);
  }
  const stamp = dateHeader ?? amzDate(signedAt);
  if (auth.date !== stamp.slice(0, 8)) {
    throw invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${clip(auth.date)}' != '${stamp.slice(0, 8)}', from '${stamp}'.`,
    );
  }
  if (auth.service !== opts.service)
    throw invalidSignature(`Credential should be scoped to correct service: '${opts.service}'.`);
  if (auth.terminator !== "aws4_request") {
    throw invalidSignature(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${clip(auth.terminator)}'.`,
    );
  }
  if (!REGION.test(auth.region)) throw invalidSignature("Credential should be scoped to a valid region.");
  if (!auth.signedHeaders.includes("host")) {
    throw invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  if (signedAt < opts.now - MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(
      `Signature expired: ${stamp} is now earlier than ${amzDate(opts.now - MAX_CLOCK_SKEW_MS)} (${amzDate(opts.now)} - 5 min.)`,
    );
  }
  if (signedAt > opts.now + MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(
      `Signature not yet current: ${stamp} is still later than ${amzDate(opts.now + MAX_CLOCK_SKEW_MS)} (${amzDate(opts.now)} + 5 min.)`,
    );
  }

  const payloadHash = sha256(req.body);
  const declared = first(req.headers, "x-amz-content-sha256");
  if (declared !== undefined && declared !== payloadHash) {
    throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const canonical = canonicalRequest(req, auth.signedHeaders, payloadHash);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${stamp}\n${scope}\n${sha256(canonical)}`;
  const expected = createHmac("sha256", signingKey(key.secretAccessKey, auth.date, auth.region, auth.service))
    .update(stringToSign, "utf8")
    .digest();
  const given = SIGNATURE.test(auth.signature) ? Buffer.from(auth.signature, "hex") : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalidSignature(
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n" +
        `The Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region };
}

/** Echoed request text is cut short so an error message never grows with a hostile header. */
function clip(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
