import { invalid } from "./errors.ts";

/**
 * ECS pagination: `maxResults` 1–100 (default per action), opaque `nextToken`. The token encodes
 * the offset and a fingerprint of the filters, so a token reused with other filters is refused
 * rather than silently returning a wrong page.
 */
export function paginate<T>(
  items: readonly T[],
  req: { nextToken?: string | undefined; maxResults?: number | undefined },
  filters: unknown,
  defaultMax = 100,
): { page: T[]; nextToken?: string } {
  const max = req.maxResults ?? defaultMax;
  if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid("maxResults must be between 1 and 100.");
  const fp = fingerprint(filters);
  let offset = 0;
  if (req.nextToken !== undefined) {
    const decoded = decodeToken(req.nextToken);
    if (!decoded || decoded.f !== fp) throw invalid("Invalid nextToken.");
    offset = decoded.o;
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max;
  return next < items.length ? { page, nextToken: Buffer.from(JSON.stringify({ o: next, f: fp })).toString("base64url") } : { page };
}

/**
 * A listing's request without its paging fields: the filters a nextToken is bound to.
 *
 * Object.assign, not `{ ...input, nextToken: undefined, … }`: on this V8 (Node 20) an object made
 * by spreading another and then given more properties outlives young-generation collections
 * though nothing holds it — at thousands of listings a second that tripled the collection pause
 * every request in flight waits through. (`{ ...a }` alone, spreads placed last and
 * Object.assign do not do it.)
 */
export function withoutPaging<T extends object>(input: T): T {
  return Object.assign({}, input, { nextToken: undefined, maxResults: undefined });
}

/**
 * How many matching items a listing must find for `paginate` to answer this request: the page and
 * one more (which says whether there is a next page). A handler can stop looking there instead of
 * collecting every match of a large cluster for a page of 100. Invalid tokens are left to paginate.
 */
export function itemsNeeded(req: { nextToken?: string | undefined; maxResults?: number | undefined }, defaultMax = 100): number {
  const max = req.maxResults ?? defaultMax;
  const offset = req.nextToken !== undefined ? (decodeToken(req.nextToken)?.o ?? 0) : 0;
  return offset + Math.max(1, Math.min(100, Number.isInteger(max) ? max : defaultMax)) + 1;
}

function decodeToken(token: string): { o: number; f: string } | null {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown; f?: unknown };
    return Number.isInteger(v.o) && (v.o as number) >= 0 && typeof v.f === "string" ? { o: v.o as number, f: v.f } : null;
  } catch {
    return null;
  }
}

function fingerprint(filters: unknown): string {
  const s = JSON.stringify(filters ?? null);
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}
