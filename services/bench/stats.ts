/** Order statistics for benchmark figures. Inputs are not modified. */

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    // A loop, not Math.min(...samples): a throughput run collects more samples than a call takes arguments.
    min: samples.length ? samples.reduce((a, b) => Math.min(a, b)) : Number.NaN,
    max: samples.length ? samples.reduce((a, b) => Math.max(a, b)) : Number.NaN,
  };
}

/** Runs `fn` `runs` times, one after another. */
export async function repeat<T>(runs: number, fn: (run: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn(i));
  return out;
}

/** Milliseconds since `t0` (performance.now()). */
export const since = (t0: number) => performance.now() - t0;
