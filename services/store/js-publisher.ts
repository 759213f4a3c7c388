import { createInbox, headers as newHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { EndOfTurn } from "./end-of-turn.ts";

/** JetStream's answer to a stored publish. */
export interface StoredAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/** JetStream refused the publish; `errCode` is the server's error code (10071: wrong last sequence…). */
export class PublishRefusedError extends Error {
  constructor(
    readonly errCode: number,
    readonly status: number,
    description: string,
  ) {
    super(description);
  }
}

/** No ack within the timeout, no stream listening on the subject, or the connection is closed. */
export class PublishUnavailableError extends Error {}

export interface StoredPublish {
  /** Deduplication id (Nats-Msg-Id). */
  msgID?: string;
  /** Nats-Expected-Last-Subject-Sequence. */
  expectLastSubjectSequence?: number;
  /** Extra headers (name → value). */
  headers?: Record<string, string>;
  timeoutMs: number;
}

const SWEEP_MS = 250;

/**
 * Publishes to JetStream and awaits each ack, through one reply subscription for all of them.
 *
 * nats.js's `js.publish` is a request: per publish it builds a request object, a timer and —
 * when the request ends, even successfully — an Error with a captured stack, which was a tenth
 * of a busy control plane's time. Here a publish is a core publish with a reply subject under
 * one wildcard inbox, acks are matched by token, and one sweep times out the overdue. The wire
 * protocol is JetStream's: the same headers, the same JSON ack or error in reply, and a
 * 503 status when no stream takes the subject.
 *
 * Publishes made during one turn of the event loop leave together (one socket write), in order.
 */
export class JetStreamPublisher {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, { resolve: (a: StoredAck) => void; reject: (e: Error) => void; deadline: number }>();
  private readonly sweep: ReturnType<typeof setInterval>;
  // Each send settles its own failure (below), so nothing reaches the queue's error handler.
  private readonly sends = new EndOfTurn(() => {});
  private next = 0;

  constructor(private readonly nc: NatsConnection) {
    this.prefix = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, m) => (err ? this.failAll(err) : this.answer(m)) });
    this.sweep = setInterval(() => this.expire(), SWEEP_MS);
    this.sweep.unref();
  }

  publish(subject: string, data: string | Uint8Array, o: StoredPublish): Promise<StoredAck> {
    return new Promise((resolve, reject) => {
      if (this.nc.isClosed()) return reject(new PublishUnavailableError("the NATS connection is closed"));
      const token = (this.next++).toString(36);
      this.pending.set(token, { resolve, reject, deadline: performance.now() + o.timeoutMs });
      const h = headersOf(o);
      this.sends.run(() => {
        try {
          this.nc.publish(subject, data, { reply: this.prefix + token, ...(h ? { headers: h } : {}) });
        } catch (err) {
          this.settle(token, new PublishUnavailableError(`publish failed: ${(err as Error).message}`));
        }
      });
    });
  }

  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    this.failAll(new PublishUnavailableError("publisher closed"));
  }

  private answer(m: Msg) {
    const token = m.subject.slice(this.prefix.length);
    const status = m.headers?.code ?? 0;
    if (status === 503) return this.settle(token, new PublishUnavailableError("no stream stores this subject (no responders)"));
    let reply: { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      reply = m.json();
    } catch {
      return this.settle(token, new PublishUnavailableError(`unreadable JetStream ack (status ${status})`));
    }
    if (reply.error)
      return this.settle(token, new PublishRefusedError(reply.error.err_code ?? 0, reply.error.code ?? 0, reply.error.description ?? "publish refused"));
    this.settle(token, { stream: reply.stream ?? "", seq: reply.seq ?? 0, duplicate: reply.duplicate === true });
  }

  private settle(token: string, outcome: StoredAck | Error) {
    const p = this.pending.get(token);
    if (!p) return; // answered after its timeout
    this.pending.delete(token);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private expire() {
    const now = performance.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(token);
      p.reject(new PublishUnavailableError("no JetStream ack within the timeout"));
    }
  }

  private failAll(err: Error) {
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      p.reject(err);
    }
  }
}

function headersOf(o: StoredPublish): MsgHdrs | undefined {
  if (o.msgID === undefined && o.expectLastSubjectSequence === undefined && !o.headers) return undefined;
  const h = newHeaders();
  if (o.msgID !== undefined) h.set("Nats-Msg-Id", o.msgID);
  if (o.expectLastSubjectSequence !== undefined) h.set("Nats-Expected-Last-Subject-Sequence", String(o.expectLastSubjectSequence));
  for (const [k, v] of Object.entries(o.headers ?? {})) h.set(k, v);
  return h;
}
