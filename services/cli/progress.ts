import { setTimeout as delay } from "node:timers/promises";

/**
 * Live progress of long work. On a terminal: one status line rewritten in place, with log lines
 * (service events, milestones) printed above it. Elsewhere (a pipe, a file, CI): plain lines, a
 * status line only when it changed, so a log of the run reads top to bottom.
 */
export class Progress {
  private current = "";
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.tty = Boolean(out.isTTY);
  }

  /** Replaces the status line. */
  status(line: string): void {
    if (line === this.current) return;
    this.current = line;
    if (this.tty) this.out.write(`\r\x1b[2K${this.fit(line)}`);
    else this.out.write(`${line}\n`);
  }

  /** Prints a line that stays (above the status line on a terminal). */
  log(line: string): void {
    if (this.tty) this.out.write(`\r\x1b[2K${line}\n${this.current ? this.fit(this.current) : ""}`);
    else this.out.write(`${line}\n`);
  }

  /** Ends the status line: on a terminal it is replaced by `final` (or kept as it is). */
  done(final?: string): void {
    if (this.tty) {
      if (final !== undefined) this.out.write(`\r\x1b[2K${final}\n`);
      else if (this.current) this.out.write("\n");
    } else if (final !== undefined && final !== this.current) {
      this.out.write(`${final}\n`);
    }
    this.current = "";
  }

  private fit(line: string): string {
    const cols = this.out.columns ?? 0;
    return cols > 1 && line.length >= cols ? `${line.slice(0, cols - 2)}…` : line;
  }
}

/** Where progress goes: stdout, or stderr when stdout carries JSON for a script. */
export const progressFor = (json: boolean) => new Progress(json ? process.stderr : process.stdout);

export interface Step<T> {
  /** The status line for this poll. */
  status: string;
  /** Finished successfully with this value. */
  done?: T;
  /** Finished unsuccessfully: the reason (exit code 1). */
  failed?: string;
  /** What was seen when it failed, for the final report. */
  last?: T;
}

/** What a watch ended with. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string; last?: T };

/**
 * Polls `step` until it reports done or failed, showing its status line; gives up after
 * `timeoutMs`. One poll a second by default: Berth answers reads from memory, so this is cheap.
 */
export async function watch<T>(
  progress: Progress,
  step: () => Promise<Step<T>>,
  opts: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<Outcome<T>> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const s = await step();
    progress.status(s.status);
    if (s.done !== undefined) return { ok: true, value: s.done };
    if (s.failed !== undefined) return { ok: false, reason: s.failed, last: s.last };
    if (Date.now() >= deadline) return { ok: false, reason: `timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what}` };
    await delay(Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
}
