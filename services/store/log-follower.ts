import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { streams } from "../../events/names.ts";
import { StoreUnavailableError } from "./event-store.ts";

/** Lifetime of one pull request of the follower (see subscribe()). */
const PULL_EXPIRES_MS = 5_000;
/** How often the follower's position is compared with the end of the log (see checkStalled()). */
const STALL_CHECK_MS = 2_500;
/** Consecutive checks that must find the follower behind and not moving before it resubscribes. */
const STALLED_CHECKS = 2;
const RESUBSCRIBE_MAX_DELAY_MS = 2_000;

export type MessageHandler = (m: JsMsg) => void;

/**
 * Follows the whole log from a sequence with an ordered consumer (it recreates itself at the right
 * sequence after a gap or a reconnect, and this class recreates it when it stalls) and calls the
 * handler for each message in order. Callers that just appended wait with `waitFor(seq)` to read
 * their own writes from the read models.
 */
export class LogFollower {
  private position = 0;
  /**
   * Callers waiting for a sequence, as a min-heap on `seq`: every folded message checks only the
   * smallest. (Under load thousands of commands wait at once; scanning them all per message was
   * quadratic.) A waiter that timed out is marked `done` and dropped when it reaches the top.
   */
  private waiters: Waiter[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private current: ConsumerMessages | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private checking = false;
  private checkedPosition = 0;
  private behind = 0;
  private jsm: JetStreamManager | undefined;

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
    this.checkedPosition = this.position;
    this.watchdog = setInterval(() => void this.checkStalled(), STALL_CHECK_MS);
    this.watchdog.unref();
    this.loop = (async () => {
      while (!this.stopped) {
        // The consumer calls `deliver` for each message until it ends: closed, or failed.
        const err = await messages.closed().catch((e: unknown) => e);
        if (err) this.log.warn({ err, seq: this.position }, "log follower consumer failed");
        if (this.stopped) break;
        messages = await this.resubscribe();
        if (this.stopped) await messages.close();
      }
    })();
  }

  /**
   * One message, in order. Called by the consumer itself rather than pulled from its async
   * iterator: on a long replay the iterator's promise per message cost about a fifth of the
   * follower's time.
   */
  private readonly deliver = (m: JsMsg): void => {
    if (this.stopped) return;
    const seq = m.seq;
    if (seq <= this.position) return; // a recreated consumer never repeats, but be sure
    try {
      this.handler(m);
    } catch (err) {
      // One bad message never stops the fold; the handler's policy already logged it.
      this.log.error({ err, seq, subject: m.subject }, "log follower handler failed; message skipped");
    }
    this.position = seq;
    this.release();
  };

  /** An ordered consumer from the message after the current position. */
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
    const messages = await consumer.consume({ max_messages: 10_000, expires: PULL_EXPIRES_MS, callback: this.deliver });
    this.current = messages;
    return messages;
  }

  /**
   * When the server holding the (single-replica) ordered consumer dies in a NATS cluster, the
   * client keeps asking that consumer for its state and never recreates it, and reports nothing
   * (test/chaos/nats-cluster.test.ts). So every STALL_CHECK_MS this compares the position with the
   * end of the log: behind and not moving, twice in a row, it ends the iteration, and start()'s
   * loop subscribes again from the next sequence.
   */
  private async checkStalled(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const moving = this.position !== this.checkedPosition;
      this.checkedPosition = this.position;
      if (moving) {
        this.behind = 0;
        return;
      }
      let last: number;
      try {
        this.jsm ??= await this.js.jetstreamManager(false);
        last = (await this.jsm.streams.info(this.stream)).state.last_seq;
      } catch {
        return; // NATS away: nothing to compare, nothing to subscribe to either
      }
      this.behind = last > this.position ? this.behind + 1 : 0;
      if (this.behind < STALLED_CHECKS) return;
      this.behind = 0;
      this.log.warn({ seq: this.position, last }, "log follower stalled; recreating its consumer");
      await this.current?.close().catch(() => {});
    } finally {
      this.checking = false;
    }
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
      const waiter: Waiter = { seq, done: false, resolve, reject };
      heapPush(this.waiters, waiter);
      const timer = setTimeout(() => {
        waiter.done = true;
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
    const heap = this.waiters;
    while (heap.length > 0 && (heap[0] as Waiter).seq <= this.position) {
      const w = heapPop(heap);
      if (!w.done) {
        w.done = true;
        w.resolve();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    await this.current?.close().catch(() => {});
    await this.loop?.catch(() => {});
    for (const w of this.waiters) if (!w.done) w.reject(new Error("log follower stopped"));
    this.waiters = [];
  }
}

interface Waiter {
  seq: number;
  done: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

function heapPush(heap: Waiter[], w: Waiter) {
  heap.push(w);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if ((heap[p] as Waiter).seq <= w.seq) break;
    heap[i] = heap[p] as Waiter;
    i = p;
  }
  heap[i] = w;
}

function heapPop(heap: Waiter[]): Waiter {
  const top = heap[0] as Waiter;
  const last = heap.pop() as Waiter;
  if (heap.length > 0) {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && (heap[r] as Waiter).seq < (heap[l] as Waiter).seq ? r : l;
      if ((heap[c] as Waiter).seq >= last.seq) break;
      heap[i] = heap[c] as Waiter;
      i = c;
    }
    heap[i] = last;
  }
  return top;
}
