// AWS Signature Version 4 for the console's requests when the server requires credentials.
// SHA-256 and HMAC are written out here because WebCrypto exists only in secure contexts (https or
// loopback), and a console opened over plain http on another host must still be able to sign.

const encoder = new TextEncoder();

/** The first 32 bits of the fractional parts of the square (H) and cube (K) roots of the first primes (FIPS 180-4). */
const PRIMES = [];
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);
const frac32 = (x) => Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;
const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => frac32(Math.sqrt(p)));
const K = Uint32Array.from(PRIMES, (p) => frac32(Math.cbrt(p)));

const ror = (x, n) => (x >>> n) | (x << (32 - n));

/** SHA-256 of bytes → 32 bytes. */
export function sha256(data) {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = bytes.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = Uint32Array.from(H0);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, h[i]);
  return out;
}

/** HMAC-SHA256 (RFC 2104). */
export function hmac(key, message) {
  let k = typeof key === "string" ? encoder.encode(key) : key;
  if (k.length > 64) k = sha256(k);
  const block = new Uint8Array(64);
  block.set(k);
  const inner = new Uint8Array(64);
  const outer = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  const msg = typeof message === "string" ? encoder.encode(message) : message;
  return sha256(concat(outer, sha256(concat(inner, msg))));
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** `2024-01-02T03:04:05.678Z` → `20240102T030405Z`. */
const amzDate = (d) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** RFC 3986 encoding of one path segment, as AWS's canonical URI uses it. */
const escapeSegment = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The headers that sign a request (header-based SigV4, service `ecs`): `x-amz-date`, the optional
 * session token and `authorization`. `headers` are the other headers sent, lower-case; all of them
 * and `host` are signed. The browser sends `host` itself (`location.host`).
 */
export function sign({ method, path, body = "", headers = {}, host, credentials, region, now = new Date() }) {
  const date = amzDate(now);
  const all = { ...headers, host, "x-amz-date": date };
  if (credentials.sessionToken) all["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(all[n]).trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalUri = path.split("/").map(escapeSegment).join("/") || "/";
  const canonical = [method, canonicalUri, "", canonicalHeaders, names.join(";"), hex(sha256(body))].join("\n");
  const scope = `${date.slice(0, 8)}/${region}/ecs/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, hex(sha256(canonical))].join("\n");
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, "ecs", "aws4_request"]) key = hmac(key, part);
  const signature = hex(hmac(key, toSign));
  const out = {
    "x-amz-date": date,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
  if (credentials.sessionToken) out["x-amz-security-token"] = credentials.sessionToken;
  return out;
}
