/**
 * Runs small NATS sends (acks, core publishes) together at the end of the event-loop turn. The
 * NATS client writes to its socket once per run of synchronous sends; sends made one by one from
 * separate callbacks each cost a socket write, and under load those writes were a large share of
 * the control plane's time. Order is kept: jobs run in the order they were queued.
 */
export class EndOfTurn {
  private jobs: (() => void)[] = [];

  constructor(private readonly onError: (err: unknown) => void) {}

  run(job: () => void): void {
    this.jobs.push(job);
    if (this.jobs.length === 1) setImmediate(() => this.flush());
  }

  private flush() {
    const jobs = this.jobs;
    this.jobs = [];
    for (const job of jobs) {
      try {
        job();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
