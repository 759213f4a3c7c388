import type { PortMapping } from "@aws-sdk/client-ecs";

/**
 * Parsers for the value formats of the Compose specification: byte sizes, durations, port
 * specs, command strings, list-or-map options. Pure; a value that cannot be read throws a
 * ComposeError naming where it is in the file.
 */

/** A compose file that cannot be translated (exit code 1, with the key path in the message). */
export class ComposeError extends Error {}

const describe = (v: unknown) => JSON.stringify(v) ?? String(v);

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `512m`, `1.5g`, `1024k`, `268435456` (bytes) → MiB, rounded up (ECS memory is whole MiB). */
export function mebibytes(v: unknown, path: string): number {
  let bytes: number;
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) bytes = v;
  else {
    const m = typeof v === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$/i.exec(v) : null;
    if (!m) throw new ComposeError(`${path}: ${describe(v)} is not a byte size (e.g. 512m, 1g)`);
    bytes = Number(m[1]) * (BYTE_UNITS[(m[2] ?? "").toLowerCase()] as number);
  }
  return Math.ceil(bytes / 1024 ** 2);
}

const DURATION_UNITS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** `1m30s`, `10s`, `500ms` (Go durations, as compose writes them) or a number of seconds → seconds. */
export function seconds(v: unknown, path: string): number {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  const text = typeof v === "string" ? v.trim() : "";
  const part = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    consumed = part.lastIndex;
  }
  if (text === "" || consumed !== text.length) throw new ComposeError(`${path}: ${describe(v)} is not a duration (e.g. 30s, 1m30s)`);
  return total;
}

/** Whole seconds for ECS: anything above zero is at least 1. */
export const wholeSeconds = (s: number) => (s === 0 ? 0 : Math.max(1, Math.round(s)));

/**
 * Splits a command string into words as a POSIX shell would, without running a shell: quotes
 * group, backslashes escape. Compose does the same with a string `command:`.
 */
export function shellWords(text: string, path: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new ComposeError(`${path}: unterminated ${quote} quote in ${describe(text)}`);
  if (inWord) words.push(word);
  return words;
}

/** A command as compose allows it (a string or a list) → ECS's list of words. */
export function commandWords(v: unknown, path: string): string[] {
  if (typeof v === "string") return shellWords(v, path);
  if (Array.isArray(v) && v.every((w) => ["string", "number", "boolean"].includes(typeof w))) return v.map(String);
  throw new ComposeError(`${path}: expected a string or a list of strings, got ${describe(v)}`);
}

export const scalar = (v: unknown) => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/**
 * A compose option that is either a list of `KEY<sep>VALUE` strings or a map, as pairs. A list
 * item without the separator (or a map entry with a null value) has value undefined.
 */
export function pairs(v: unknown, path: string, sep = "="): [string, string | undefined][] {
  if (Array.isArray(v)) {
    return v.map((item, i) => {
      if (!scalar(item)) throw new ComposeError(`${path}[${i}]: expected "KEY${sep}VALUE", got ${describe(item)}`);
      const text = String(item);
      const at = text.indexOf(sep);
      return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + sep.length)];
    });
  }
  if (v !== null && typeof v === "object") {
    return Object.entries(v).map(([k, val]) => {
      if (val !== null && val !== undefined && !scalar(val)) throw new ComposeError(`${path}.${k}: expected a string, number or boolean`);
      return [k, val === null || val === undefined ? undefined : String(val)];
    });
  }
  throw new ComposeError(`${path}: expected a list or a map, got ${describe(v)}`);
}

/** A single value or a list → a list of strings. */
export function stringList(v: unknown, path: string): string[] {
  if (scalar(v)) return [String(v)];
  if (Array.isArray(v) && v.every(scalar)) return v.map(String);
  throw new ComposeError(`${path}: expected a string or a list of strings, got ${describe(v)}`);
}

function portRange(text: string, path: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!m || lo < 1 || hi > 65535 || hi < lo) throw new ComposeError(`${path}: ${describe(text)} is not a port or port range`);
  return [lo, hi];
}

/**
 * One entry of `ports:` → ECS port mappings (bridge networking). Short syntax
 * `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]` with ranges, or the long syntax
 * `{target, published, protocol, host_ip}`. No host port means a dynamic one (hostPort 0), as
 * compose publishes a bare container port on a random host port. A host IP cannot be expressed
 * in ECS: it is reported through `warn` and the port is published on every address.
 */
export function portMappings(v: unknown, path: string, warn: (path: string, why: string) => void): PortMapping[] {
  let hostIp: string | undefined;
  let published: string | undefined;
  let target: string;
  let protocol = "tcp";
  if (typeof v === "number") target = String(v);
  else if (typeof v === "string") {
    let rest = v.trim();
    const slash = rest.lastIndexOf("/");
    if (slash >= 0) {
      protocol = rest.slice(slash + 1).toLowerCase();
      rest = rest.slice(0, slash);
    }
    const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(rest);
    if (bracketed) {
      hostIp = bracketed[1];
      rest = bracketed[2] as string;
    }
    const parts = rest.split(":");
    if (parts.length > 3 || (bracketed && parts.length !== 2)) throw new ComposeError(`${path}: ${describe(v)} is not a port spec`);
    target = parts.pop() as string;
    published = parts.pop();
    if (parts.length) hostIp = parts.pop();
    if (published === "") published = undefined;
  } else if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!["target", "published", "protocol", "host_ip", "mode"].includes(k)) warn(`${path}.${k}`, "is not supported — ignored");
    if (o.target === undefined) throw new ComposeError(`${path}.target is required`);
    target = String(o.target);
    published = o.published === undefined || o.published === null || o.published === "" ? undefined : String(o.published);
    protocol = o.protocol === undefined ? "tcp" : String(o.protocol).toLowerCase();
    hostIp = o.host_ip === undefined ? undefined : String(o.host_ip);
  } else throw new ComposeError(`${path}: ${describe(v)} is not a port spec`);
  if (protocol !== "tcp" && protocol !== "udp") throw new ComposeError(`${path}: protocol ${describe(protocol)} is not tcp or udp`);
  if (hostIp !== undefined && hostIp !== "0.0.0.0" && hostIp !== "::") {
    warn(path, `binds host address ${hostIp}, which ECS port mappings cannot express — published on every address instead`);
  }
  const [cLo, cHi] = portRange(target, path);
  const hostRange = published === undefined ? undefined : portRange(published, path);
  const count = cHi - cLo + 1;
  if (hostRange && hostRange[1] - hostRange[0] + 1 !== count) {
    if (count !== 1) throw new ComposeError(`${path}: host and container port ranges differ in length`);
    warn(path, "publishes one container port on a host port range; ECS needs one host port — the first of the range is used");
  }
  const out: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ containerPort: cLo + i, hostPort: hostRange ? hostRange[0] + i : 0, protocol: protocol as "tcp" | "udp" });
  }
  return out;
}
