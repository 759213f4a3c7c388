import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import type { Heartbeat } from "../../events/agent.ts";
import { heartbeatKey } from "../../events/names.ts";

/** Heartbeats are spread over the interval in slices of this many milliseconds. */
const SLICE_MS = 250;

export interface HeartbeatTarget {
  instanceId: string;
}

/**
 * Heartbeats for a whole simulated fleet from one loop: each instance beats once per interval, as
 * a real agent does, but the fleet is cut into slices beaten one after another, so 10,000
 * instances make a steady trickle of KV puts (in flight together per slice) instead of 10,000
 * timers or one burst per interval. The key and value are exactly a real agent's.
 */
export class FleetHeartbeats {
  private timer: NodeJS.Timeout | undefined;
  private slice = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  failures = 0;

  constructor(
    private readonly kv: KV,
    private readonly o: {
      region: string;
      cluster: string;
      intervalMs: number;
      bootAt: number;
      clock: () => number;
      log: Logger;
    },
    private readonly members: () => readonly HeartbeatTarget[],
  ) {}

  start() {
    const slices = Math.max(1, Math.round(this.o.intervalMs / SLICE_MS));
    this.timer = setInterval(() => this.beat(slices), Math.max(1, Math.floor(this.o.intervalMs / slices)));
    this.timer.unref();
  }

  /** Beats every member now (the first beat right after registration, so none looks lost). */
  beatAll(): Promise<void> {
    return this.put(this.members());
  }

  private beat(slices: number) {
    const all = this.members();
    const k = this.slice++ % slices;
    const size = Math.ceil(all.length / slices);
    const part = all.slice(k * size, (k + 1) * size);
    // A slow server must not pile beats up: a slice waits for the previous one to finish.
    this.inFlight = this.inFlight.then(() => this.put(part));
  }

  private async put(part: readonly HeartbeatTarget[]): Promise<void> {
    const at = this.o.clock();
    const results = await Promise.allSettled(
      part.map((m) => {
        const value: Heartbeat = { cluster: this.o.cluster, instanceId: m.instanceId, at, bootAt: this.o.bootAt };
        return this.kv.put(heartbeatKey(this.o.region, m.instanceId), JSON.stringify(value));
      }),
    );
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) {
      this.failures += failed;
      this.o.log.warn({ failed, of: part.length }, "heartbeats not stored");
    }
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
