import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { streams } from "../../events/names.ts";
import { StoreUnavailableError } from "./event-store.ts";
import { LogFeed } from "./log-feed.ts";

/** One message of the log: its stream sequence, subject and payload. */
export interface LogMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
}

export type MessageHandler = (m: LogMessage) => void;

/**
 * Follows the whole log from a sequence (through a LogFeed: in order, once each, recreated at the
 * right sequence after a gap, a reconnect or a stall) and calls the handler for each message.
 * Callers that just appended wait with `waitFor(seq)` to read their own writes from the read models.
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
  private feed: LogFeed | undefined;

  constructor(
    private readonly nc: NatsConnection,
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
    this.feed = new LogFeed(this.nc, this.stream, this.log, this.deliver);
    await this.feed.start(fromSeq);
  }

  /** One message, in order (the feed never repeats one). */
  private readonly deliver = (seq: number, subject: string, data: Uint8Array): void => {
    if (this.stopped) return;
    try {
      this.handler({ seq, subject, data });
    } catch (err) {
      // One bad message never stops the fold; the handler's policy already logged it.
      this.log.error({ err, seq, subject }, "log follower handler failed; message skipped");
    }
    this.position = seq;
    this.release();
  };

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
    await this.feed?.stop();
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
