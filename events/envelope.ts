import { z } from "zod";

/**
 * The envelope of every stored message: CloudEvents 1.0 attributes plus three extensions.
 *
 *  - `dataversion`: schema version of `data` for this `type` (upcasters key on type+version);
 *  - `aggregateversion`: 1 for the aggregate's first event, +1 for each next one;
 *  - `causationid` / `correlationid`: the envelope id of the event or request that caused it.
 *
 * `data` is the domain event itself; its `type` equals the envelope's `type`.
 */
export const Envelope = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: z.string(),
  datacontenttype: z.literal("application/json"),
  dataversion: z.number().int().positive(),
  aggregateversion: z.number().int().positive(),
  causationid: z.string().optional(),
  correlationid: z.string().optional(),
  data: z.looseObject({ type: z.string() }),
});
export type Envelope = z.infer<typeof Envelope>;

/** An envelope as read back from the stream, with its position. */
export interface Stored<E = unknown> {
  seq: number;
  subject: string;
  envelope: Envelope;
  event: E;
}

export interface Meta {
  source: string;
  causationid?: string;
  correlationid?: string;
}

/**
 * Wraps a domain event. The id is deterministic from (subject, aggregate version, content): a
 * retried append of the same decision deduplicates in the broker, while two different decisions
 * at the same version get different ids and so meet the expected-sequence check instead of being
 * silently dropped as duplicates.
 */
export function envelope(
  subject: string,
  resource: string,
  aggregateVersion: number,
  event: { type: string; at: number },
  meta: Meta,
  dataversion = 1,
): Envelope {
  return {
    specversion: "1.0",
    id: `${subject}:${aggregateVersion}:${contentHash(JSON.stringify(event))}`,
    source: meta.source,
    type: event.type,
    subject: resource,
    time: new Date(event.at).toISOString(),
    datacontenttype: "application/json",
    dataversion,
    aggregateversion: aggregateVersion,
    ...(meta.causationid ? { causationid: meta.causationid } : {}),
    ...(meta.correlationid ? { correlationid: meta.correlationid } : {}),
    data: event,
  };
}

/** cyrb53: a fast 53-bit string hash, as 14 hex digits. Not cryptographic; used for ids only. */
export function contentHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}
