import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";

/**
 * The scheduler's leader lease: one key in a JetStream KV bucket whose TTL is the lease time.
 * Acquiring is `create` (succeeds only when the key is absent: the previous holder let it expire);
 * renewing is `update` at the revision we hold (fails if anyone else wrote it). A holder that
 * cannot renew stops leading at once; `held()` is also false once the last renewal is older than
 * the TTL, so a paused process that wakes up does not act on a lease it no longer has.
 */
export class Lease {
  private revision = 0;
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;

  constructor(
    private readonly kv: KV,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
    private readonly onChange: (leader: boolean) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  held(): boolean {
    return this.leading && this.clock() - this.renewedAt < this.ttlMs;
  }

  start() {
    void this.tick();
  }

  private schedule() {
    this.timer = setTimeout(() => void this.tick(), Math.max(200, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private async tick() {
    const started = this.clock();
    try {
      if (this.leading) {
        this.revision = await this.kv.update(this.key, this.holder, this.revision);
        this.renewedAt = started;
      } else {
        this.revision = await this.kv.create(this.key, this.holder);
        this.renewedAt = started;
        this.set(true);
      }
    } catch (err) {
      if (this.leading) {
        // Expected when this process was paused or cut off past the lease time: said in one line.
        const reason = err instanceof Error ? err.message : String(err);
        this.log.warn(
          { reason },
          /wrong last sequence/i.test(reason)
            ? "scheduler lease lost: another process took it over"
            : "scheduler lease lost: it could not be renewed in time",
        );
        this.set(false);
      }
    } finally {
      if (this.timer !== undefined || !this.stopped) this.schedule();
    }
  }

  private stopped = false;

  private set(leader: boolean) {
    if (leader === this.leading) return;
    this.leading = leader;
    this.log.info({ holder: this.holder }, leader ? "this process now leads the scheduler" : "this process no longer leads the scheduler");
    this.onChange(leader);
  }

  /** Stops renewing and releases the lease so another process can take over at once. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.leading) {
      this.set(false);
      await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => {});
    }
  }
}
