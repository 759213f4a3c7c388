import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { Envelope, type Stored } from "../../events/envelope.ts";
import { EVENT_TYPE_HEADER, streams } from "../../events/names.ts";
import { JetStreamPublisher, PublishRefusedError } from "./js-publisher.ts";

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

/**
 * The log reached its storage limit (the stream's max bytes, or JetStream's storage on the
 * server): the append was refused and nothing of it was stored. Stored events are untouched —
 * the events stream discards new messages, never old ones — and appends succeed again once the
 * limit is raised or space is freed.
 */
export class LogFullError extends StoreUnavailableError {}

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
  /** Stored publishes with acks, shared with the other writers of the control plane (directives). */
  readonly publisher: JetStreamPublisher;

  constructor(
    nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly log: Logger,
    private readonly stream: string = streams.events,
  ) {
    this.publisher = new JetStreamPublisher(nc);
  }

  /**
   * Appends envelopes to one subject, in order, the first expecting the subject's last sequence
   * to be `expectedSeq` (0 = the subject is empty) and each next one expecting its predecessor.
   * Returns the stream sequence of each. Throws ConcurrencyError when another writer got there
   * first (nothing of this batch was written in that case only if the FIRST append conflicted;
   * a later conflict means a concurrent writer interleaved, and the caller re-decides from the
   * state that now includes the appended prefix).
   *
   * Appends asked for during one turn of the event loop leave together in one socket write
   * (JetStreamPublisher), and each caller still gets its own ack.
   */
  async append(subject: string, envelopes: readonly Envelope[], expectedSeq: number): Promise<Appended[]> {
    const out: Appended[] = [];
    let expect = expectedSeq;
    for (const env of envelopes) {
      try {
        const ack = await this.publisher.publish(subject, JSON.stringify(env), {
          msgID: env.id,
          expectLastSubjectSequence: expect,
          headers: { [EVENT_TYPE_HEADER]: env.type },
          timeoutMs: APPEND_TIMEOUT_MS,
        });
        out.push({ seq: ack.seq, duplicate: ack.duplicate });
        expect = ack.seq;
      } catch (err) {
        if (isWrongLastSequence(err)) throw new ConcurrencyError(subject, expect);
        if (isStorageFull(err)) {
          this.log.error({ err, subject }, "event log full: append refused");
          throw new LogFullError(`event log full: ${(err as Error).message}`, { cause: err });
        }
        this.log.warn({ err, subject }, "append failed");
        throw new StoreUnavailableError(`event log unavailable: ${(err as Error).message}`, { cause: err });
      }
    }
    return out;
  }

  /** Stops waiting for acks (pending appends fail as unavailable). */
  close(): void {
    this.publisher.close();
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

/**
 * JetStream's "storage full" refusals (nats-server error codes): 10077 wraps the store's own
 * error, here "maximum bytes/messages exceeded" (a stream limit with discard new); 10047 is
 * "insufficient storage resources" and 10023 "insufficient resources" (the server's or the
 * account's JetStream storage is used up).
 */
const STORE_FAILED = 10077;
const STORAGE_RESOURCES_EXCEEDED = 10047;
const INSUFFICIENT_RESOURCES = 10023;

function isStorageFull(err: unknown): boolean {
  if (!(err instanceof PublishRefusedError)) return false;
  if (err.errCode === STORAGE_RESOURCES_EXCEEDED || err.errCode === INSUFFICIENT_RESOURCES) return true;
  return err.errCode === STORE_FAILED && /maximum (bytes|messages) exceeded/i.test(err.message);
}

function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof PublishRefusedError &&
    (err.errCode === JetStreamApiCodes.StreamWrongLastSequence || err.errCode === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Decodes a stored message. Throws on a message that is not a Berth envelope (the caller's policy decides). */
export function decode(m: Pick<JsMsg, "seq" | "subject" | "data">): Stored {
  const envelope = Envelope.parse(JSON.parse(new TextDecoder().decode(m.data)));
  return { seq: m.seq, subject: m.subject, envelope, event: envelope.data };
}
