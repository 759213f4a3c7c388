import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { streams } from "../../events/names.ts";
import { StoreUnavailableError } from "./event-store.ts";

/** Lifetime of one pull request of the follower (see subscribe()). */
const PULL_EXPIRES_MS = 5_000;
/** Missed idle heartbeats (PULL_EXPIRES_MS / 2 apart) after which the consumer is recreated. */
const RECREATE_AFTER_MISSED_HEARTBEATS = 2;
const RESUBSCRIBE_MAX_DELAY_MS = 2_000;

export type MessageHandler = (m: JsMsg) => void;

/**
 * Follows the whole log from a sequence with an ordered consumer (it recreates itself at the right
 * sequence after a gap or a reconnect, and this class recreates it when it stalls) and calls the
 * handler for each message in order. Callers
 * that just appended wait with `waitFor(seq)` to read their own writes from the read models.
 */
export class LogFollower {
  private position = 0;
  private waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private closer: (() => Promise<void>) | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly handler: MessageHandler,
    private readonly stream: string = streams.events,
  ) {}

  /** Last sequence handed to the handler. */
  get seq(): number {
    return this.position;
  }

  async start(fromSeq = 1): Promise<void> {
    this.position = fromSeq - 1;
    let messages = await this.subscribe();
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          for await (const m of messages) {
            if (this.stopped) break;
            if (m.seq <= this.position) continue; // a recreated consumer never repeats, but be sure
            try {
              this.handler(m);
            } catch (err) {
              // One bad message never stops the fold; the handler's policy already logged it.
              this.log.error({ err, seq: m.seq, subject: m.subject }, "log follower handler failed; message skipped");
            }
            this.position = m.seq;
            this.release();
          }
        } catch (err) {
          this.log.warn({ err, seq: this.position }, "log follower consumer failed");
        }
        if (this.stopped) break;
        messages = await this.resubscribe();
        if (this.stopped) await messages.close();
      }
    })();
  }

  /** An ordered consumer from the message after the current position, with the stall watchdog. */
  private async subscribe(): Promise<ConsumerMessages> {
    const from = this.position + 1;
    const consumer = await this.js.consumers.get(this.stream, {
      deliver_policy: from <= 1 ? DeliverPolicy.All : DeliverPolicy.StartSequence,
      ...(from > 1 ? { opt_start_seq: from } : {}),
    });
    // After a NATS restart the client recreates the ordered consumer, but a pull lost in the
    // restart is noticed only after two missed idle heartbeats (`expires` / 2 each): with the 30 s
    // default every write stalled for 30-45 s (test/chaos/nats-kill.test.ts). Short pulls bound
    // that to a few seconds, for one small pull request per interval on an idle log.
    const messages = await consumer.consume({ max_messages: 10_000, expires: PULL_EXPIRES_MS });
    this.closer = () => messages.close().then(() => undefined);
    // When the server holding the (single-replica) ordered consumer dies in a NATS cluster, the
    // client keeps asking that consumer for its state and never recreates it: heartbeats stay
    // missing (test/chaos/nats-cluster.test.ts). Ending the iteration makes start() recreate it.
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === "heartbeats_missed" && s.count >= RECREATE_AFTER_MISSED_HEARTBEATS) {
          this.log.warn({ seq: this.position, missed: s.count }, "log follower stalled; recreating its consumer");
          await messages.close().catch(() => {});
          return;
        }
      }
    })();
    return messages;
  }

  /** Recreates the consumer, retrying while NATS is away. */
  private async resubscribe(): Promise<ConsumerMessages> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.subscribe();
      } catch (err) {
        if (this.stopped) throw err;
        this.log.warn({ err, attempt, seq: this.position }, "log follower consumer not recreated yet; retrying");
        await new Promise((r) => setTimeout(r, Math.min(RESUBSCRIBE_MAX_DELAY_MS, 250 * attempt)));
      }
    }
  }

  /** Resolves once every message up to `seq` has been handled. */
  waitFor(seq: number, timeoutMs = 10_000): Promise<void> {
    if (this.position >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { seq, resolve, reject };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        // The write may be stored, but it cannot be read back now (NATS away): retriable, like an append that failed.
        reject(new StoreUnavailableError(`read model did not reach sequence ${seq} within ${timeoutMs} ms (at ${this.position})`));
      }, timeoutMs);
      timer.unref();
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private release() {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.seq <= this.position);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.position);
    for (const w of ready) w.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.closer?.();
    await this.loop?.catch(() => {});
    for (const w of this.waiters) w.reject(new Error("log follower stopped"));
    this.waiters = [];
  }
}
