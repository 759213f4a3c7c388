import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { streams } from "../../events/names.ts";

export type MessageHandler = (m: JsMsg) => void;

/**
 * Follows the whole log from a sequence with an ordered consumer (it recreates itself at the right
 * sequence after a gap or a reconnect) and calls the handler for each message in order. Callers
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
    const consumer = await this.js.consumers.get(this.stream, {
      deliver_policy: fromSeq <= 1 ? DeliverPolicy.All : DeliverPolicy.StartSequence,
      ...(fromSeq > 1 ? { opt_start_seq: fromSeq } : {}),
    });
    const messages = await consumer.consume({ max_messages: 10_000 });
    this.closer = async () => {
      await messages.close();
    };
    this.loop = (async () => {
      for await (const m of messages) {
        if (this.stopped) break;
        try {
          this.handler(m);
        } catch (err) {
          // One bad message never stops the fold; the handler's policy already logged it.
          this.log.error({ err, seq: m.seq, subject: m.subject }, "log follower handler failed; message skipped");
        }
        this.position = m.seq;
        this.release();
      }
    })();
  }

  /** Resolves once every message up to `seq` has been handled. */
  waitFor(seq: number, timeoutMs = 10_000): Promise<void> {
    if (this.position >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { seq, resolve, reject };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`read model did not reach sequence ${seq} within ${timeoutMs} ms (at ${this.position})`));
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
