import { setTimeout as delay } from "node:timers/promises";
import { inspect } from "node:util";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";

/** A probe's answer: `undefined`, `null` and `false` mean "not yet"; anything else is the fact. */
export type Probe<T> = () => Promise<T | undefined | null | false> | T | undefined | null | false;

export interface WaitOptions {
  /** Deadline for the whole wait. */
  timeoutMs: number;
  /** Pause between probes (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the error message: "task RUNNING", "nats-server on :4222". */
  what: string;
  /** Ends the wait early, rejecting with the signal's reason (e.g. "the process exited"). */
  signal?: AbortSignal;
}

const NOT_YET = Symbol("not yet");

function describe(value: unknown): string {
  if (value === NOT_YET) return "no answer yet";
  if (value instanceof Error) return `error: ${value.message}`;
  return inspect(value, { depth: 4, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 500 });
}

/**
 * Polls `probe` until it returns a fact (not `undefined`/`null`/`false`) and returns that fact.
 * A probe that throws counts as "not yet" (the error is kept as the last value). On the
 * deadline it throws with `what` and the last value seen, so a failing test says what it was
 * waiting for and how far it got. A probe call that hangs is cut off by the deadline too, and
 * `signal` ends the wait at once (a process that exited will never become ready).
 */
export async function waitFor<T>(probe: Probe<T>, opts: WaitOptions): Promise<T> {
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown = NOT_YET;
  const aborted = new Promise<never>((_, reject) => {
    const abort = () => reject(opts.signal?.reason ?? new Error(`wait for ${opts.what} aborted`));
    if (opts.signal?.aborted) abort();
    else opts.signal?.addEventListener("abort", abort, { once: true });
  });
  aborted.catch(() => {});
  for (;;) {
    const remaining = deadline - Date.now();
    const timer = new AbortController();
    try {
      const value = await Promise.race([
        Promise.resolve().then(probe),
        delay(Math.max(remaining, 0), NOT_YET, { signal: timer.signal }),
        aborted,
      ]);
      if (value !== NOT_YET) {
        last = value;
        if (value !== undefined && value !== null && value !== false) return value as T;
      }
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      last = err;
    } finally {
      timer.abort();
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last: ${describe(last)}`);
    }
    await Promise.race([delay(Math.min(intervalMs, Math.max(deadline - Date.now(), 0))), aborted]);
  }
}

export interface ArmedMessage {
  /** Resolves with the first matching message; rejects on the deadline. */
  message: Promise<Msg>;
  /** Stops waiting (the promise rejects) and unsubscribes. */
  cancel(): void;
}

function armSubscription(
  nc: NatsConnection,
  subject: string,
  predicate: (msg: Msg) => boolean,
  timeoutMs: number,
): { sub: Subscription; armed: ArmedMessage } {
  const sub = nc.subscribe(subject);
  let timer: NodeJS.Timeout | undefined;
  let settle: ((err?: Error) => void) | undefined;
  const message = new Promise<Msg>((resolve, reject) => {
    settle = (err) => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err) reject(err);
    };
    timer = setTimeout(
      () => settle?.(new Error(`timed out after ${timeoutMs} ms waiting for a message on ${subject}`)),
      timeoutMs,
    );
    void (async () => {
      try {
        for await (const msg of sub) {
          if (predicate(msg)) {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(msg);
            return;
          }
        }
        settle?.(new Error(`subscription to ${subject} closed before a matching message`));
      } catch (err) {
        settle?.(err instanceof Error ? err : new Error(String(err)));
      }
    })();
  });
  // Callers that only cancel must not see an unhandled rejection.
  message.catch(() => {});
  return {
    sub,
    armed: { message, cancel: () => settle?.(new Error(`wait for a message on ${subject} cancelled`)) },
  };
}

/**
 * Waits for the first core-NATS message on `subject` (wildcards allowed) that satisfies
 * `predicate`. The subscription is made synchronously, before this returns its promise, so call
 * it before the action that produces the message. When the message may come from another
 * connection right after the action, use `expectMessage`, which also waits until the server has
 * registered the subscription.
 */
export function waitForMessage(
  nc: NatsConnection,
  subject: string,
  predicate: (msg: Msg) => boolean,
  timeoutMs: number,
): Promise<Msg> {
  return armSubscription(nc, subject, predicate, timeoutMs).armed.message;
}

/**
 * Like `waitForMessage`, but resolves only once the server has the subscription (after a
 * flush), so no message published afterwards by any connection can be missed:
 *
 *   const armed = await expectMessage(nc, "berth.>", (m) => m.subject.endsWith(".RUNNING"), 10_000);
 *   await doTheThing();
 *   const msg = await armed.message;
 */
export async function expectMessage(
  nc: NatsConnection,
  subject: string,
  predicate: (msg: Msg) => boolean,
  timeoutMs: number,
): Promise<ArmedMessage> {
  const { armed } = armSubscription(nc, subject, predicate, timeoutMs);
  await nc.flush();
  return armed;
}
