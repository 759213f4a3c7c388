/** Small helpers for waiting and retrying; every wait ends early when its signal aborts. */

export class Aborted extends Error {
  override readonly name = "Aborted";
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Aborted("aborted"));
    const onAbort = () => {
      clearTimeout(t);
      reject(new Aborted("aborted"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Exponential backoff with full jitter: 200 ms doubling up to `maxMs` (default 10 s). */
export function backoffMs(attempt: number, maxMs = 10_000): number {
  const ceiling = Math.min(maxMs, 200 * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * Calls `fn` until it returns, sleeping with backoff between failures that `retriable` accepts
 * (default: all). `onError` sees each failure (for logging). Rejects with Aborted when `signal` aborts.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: {
    signal?: AbortSignal;
    maxDelayMs?: number;
    retriable?: (err: unknown) => boolean;
    onError?: (err: unknown, attempt: number) => void;
  } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new Aborted("aborted");
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw new Aborted("aborted");
      if (opts.retriable && !opts.retriable(err)) throw err;
      opts.onError?.(err, attempt);
      await sleep(backoffMs(attempt, opts.maxDelayMs), opts.signal);
    }
  }
}

/**
 * Runs work one at a time per key, in the order it was queued: the agent's one-writer-per-task
 * rule (StartTask, StopTask, Docker events and cleanup of one task never interleave).
 */
export class KeyedSerial {
  private tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when everything queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
}
