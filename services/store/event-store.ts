import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
} from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { Envelope, type Stored } from "../../events/envelope.ts";
import { EVENT_TYPE_HEADER, streams } from "../../events/names.ts";

/** Another writer appended to the aggregate first; the caller re-reads and re-decides. */
export class ConcurrencyError extends Error {
  constructor(
    readonly subject: string,
    readonly expectedSeq: number,
  ) {
    super(`concurrent append on ${subject} (expected last sequence ${expectedSeq})`);
  }
}

/** The log could not be written (NATS down, stream full, timeout). Retriable from the client's view. */
export class StoreUnavailableError extends Error {}

export interface Appended {
  seq: number;
  duplicate: boolean;
}

const APPEND_TIMEOUT_MS = 5_000;

/**
 * The event store over one JetStream stream. An aggregate is one subject; appends carry
 * `expect.lastSubjectSequence` (JetStream enforces one writer per aggregate) and a deterministic
 * msgID (the envelope id), so a retried append is stored once.
 */
export class EventStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly log: Logger,
    private readonly stream: string = streams.events,
  ) {}

  /**
   * Appends envelopes to one subject, in order, the first expecting the subject's last sequence
   * to be `expectedSeq` (0 = the subject is empty) and each next one expecting its predecessor.
   * Returns the stream sequence of each. Throws ConcurrencyError when another writer got there
   * first (nothing of this batch was written in that case only if the FIRST append conflicted;
   * a later conflict means a concurrent writer interleaved, and the caller re-decides from the
   * state that now includes the appended prefix).
   */
  async append(subject: string, envelopes: readonly Envelope[], expectedSeq: number): Promise<Appended[]> {
    const out: Appended[] = [];
    let expect = expectedSeq;
    for (const env of envelopes) {
      const h = headers();
      h.set(EVENT_TYPE_HEADER, env.type);
      try {
        const ack = await this.js.publish(subject, JSON.stringify(env), {
          msgID: env.id,
          expect: { lastSubjectSequence: expect },
          headers: h,
          timeout: APPEND_TIMEOUT_MS,
        });
        out.push({ seq: ack.seq, duplicate: ack.duplicate });
        expect = ack.seq;
      } catch (err) {
        if (isWrongLastSequence(err)) throw new ConcurrencyError(subject, expect);
        this.log.warn({ err, subject }, "append failed");
        throw new StoreUnavailableError(`event log unavailable: ${(err as Error).message}`, { cause: err });
      }
    }
    return out;
  }

  /** Stream sequence of the last message on a subject, 0 when there is none. */
  async lastSeq(subject: string): Promise<number> {
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
      return m?.seq ?? 0;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10037) return 0; // no message found
      throw err;
    }
  }

  /** Every stored event of one aggregate, in order. */
  async read(subject: string): Promise<Stored[]> {
    const last = await this.lastSeq(subject);
    if (last === 0) return [];
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.All,
    });
    const out: Stored[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      out.push(decode(m));
      if (m.seq >= last) break;
    }
    await messages.close();
    return out;
  }

  /** Last sequence of the whole stream. */
  async head(): Promise<number> {
    const info = await this.jsm.streams.info(this.stream);
    return info.state.last_seq;
  }
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Decodes a stored message. Throws on a message that is not a Berth envelope (the caller's policy decides). */
export function decode(m: Pick<JsMsg, "seq" | "subject" | "data">): Stored {
  const envelope = Envelope.parse(JSON.parse(new TextDecoder().decode(m.data)));
  return { seq: m.seq, subject: m.subject, envelope, event: envelope.data };
}
