/**
 * Typed values of the cluster query language: agent versions, registration dates, counts, and
 * the ordering of plain strings. Pure; Date.UTC is arithmetic here, never the clock.
 */

/** A version as its numeric components, leading zeros dropped ("01" → "1"), compared as numbers. */
export type Version = readonly string[];

/** `1.14.5`, `v1.14`: digits separated by dots. Strict, for the expression's argument. */
export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+(?:\.\d+)*)$/.exec(text);
  return m?.[1] ? normalize(m[1]) : undefined;
}

/** An instance's agent version: its leading numeric part ("1.68.2-dev" → 1.68.2). */
export function parseAgentVersion(text: string): Version | undefined {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(text);
  return m?.[1] ? normalize(m[1]) : undefined;
}

const normalize = (dotted: string): Version => dotted.split(".").map((p) => p.replace(/^0+(?=\d)/, ""));

/** Negative, zero or positive; missing components count as 0 (1.14 == 1.14.0). Digit strings of any length. */
export function compareVersions(a: Version, b: Version): number {
  for (let k = 0; k < Math.max(a.length, b.length); k++) {
    const x = a[k] ?? "0";
    const y = b[k] ?? "0";
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * registeredAt's argument, to epoch ms. ECS documents four formats: 2018-06-18T22:28:28+00:00,
 * 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 and 2018-06-18; a time without a zone and a bare date
 * are read as UTC (ECS does not say; UTC is the only zone it ever reports in).
 */
export function parseTimestamp(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
  if (!m) return undefined;
  const part = (k: number) => Number(m[k] ?? 0);
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  const valid =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  if (!valid) return undefined;
  const zone = /^([+-])(\d{2}):(\d{2})$/.exec(m[7] ?? "");
  if (!zone) return ms; // "Z" or no zone: UTC
  const [hours, minutes] = [Number(zone[2]), Number(zone[3])];
  if (hours > 23 || minutes > 59) return undefined;
  return ms - (zone[1] === "-" ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** The query language's dates have second resolution; an instance's registration is truncated to match. */
export const toWholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Ordering for attribute values: numerically when both sides are decimal numbers (so `> 8`
 * holds for "16"), otherwise by UTF-16 code units. ECS does not document attribute ordering.
 */
export function compareText(a: string, b: string): number {
  if (DECIMAL.test(a) && DECIMAL.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

export type Ordering = "==" | "!=" | ">" | ">=" | "<" | "<=";

/** Whether a comparison result (negative, zero, positive) satisfies the operator. */
export function orderHolds(op: Ordering, cmp: number): boolean {
  switch (op) {
    case "==":
      return cmp === 0;
    case "!=":
      return cmp !== 0;
    case ">":
      return cmp > 0;
    case ">=":
      return cmp >= 0;
    case "<":
      return cmp < 0;
    case "<=":
      return cmp <= 0;
  }
}
