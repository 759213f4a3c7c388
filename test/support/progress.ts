/**
 * Watches a counter that must keep moving (answered calls, heartbeats seen) and records every
 * stretch longer than `stallMs` in which it did not: a recovery that "works, eventually" after a
 * client library's 30 s back-off is a stall, and a test can refuse it. The bound is a deadline for
 * the next sign of progress, not a measurement of speed.
 */
export interface ProgressWatch {
  /** Stalls seen so far: what was stuck, at which value, since when, for how long (ms). */
  readonly stalls: { what: string; value: number; since: string; ms: number }[];
  /** The longest pause seen (ms), stall or not. */
  readonly longestMs: number;
  stop(): Promise<void>;
}

export function watchProgress(
  what: string,
  probe: () => number | Promise<number>,
  opts: { stallMs: number; intervalMs?: number; until?: () => boolean },
): ProgressWatch {
  const stalls: ProgressWatch["stalls"] = [];
  let stopped = false;
  let value = Number.NaN;
  let since = Date.now();
  let reported = false;
  let longestMs = 0;
  const loop = (async () => {
    while (!stopped && !(opts.until?.() ?? false)) {
      let now: number;
      try {
        now = await probe();
      } catch {
        now = value; // a failed probe is no progress
      }
      if (now === value) longestMs = Math.max(longestMs, Date.now() - since);
      if (now !== value) {
        value = now;
        since = Date.now();
        reported = false;
      } else if (!reported && Date.now() - since > opts.stallMs) {
        reported = true;
        stalls.push({ what, value, since: new Date(since).toISOString(), ms: Date.now() - since });
      } else if (reported) {
        const last = stalls[stalls.length - 1];
        if (last) last.ms = Date.now() - since;
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
    }
  })();
  return {
    stalls,
    get longestMs() {
      return longestMs;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
