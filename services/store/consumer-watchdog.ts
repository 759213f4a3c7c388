import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";

/** How often the consumer's state on the server is compared with what this process received. */
const CHECK_EVERY_MS = 2_500;
/** Consecutive checks that must find messages waiting and none arriving before `onStall`. */
const STALLED_CHECKS = 2;

/**
 * Watches one consume() of a durable pull consumer. After the consumer's leader dies in a NATS
 * cluster, the client can keep waiting on a pull nobody will answer, reporting missed heartbeats
 * but never pulling again (test/chaos/nats-cluster.test.ts). Every CHECK_EVERY_MS this asks the
 * server how many messages wait for the consumer: when some do, the consumer is not at its
 * max_ack_pending, and `delivered()` has not moved, twice in a row, it calls `onStall` — which
 * closes the iteration so the caller consumes again. Nothing is lost by that: unacknowledged
 * messages are redelivered. Returns the function that stops watching.
 */
export function watchConsumer(o: {
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  /** Messages received so far by this consume (any counter that grows with each). */
  delivered: () => number;
  onStall: () => void;
  log: Logger;
}): () => void {
  let checked = o.delivered();
  let behind = 0;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      const now = o.delivered();
      const moving = now !== checked;
      checked = now;
      if (moving) {
        behind = 0;
        return;
      }
      let waiting: boolean;
      try {
        const info = await o.jsm.consumers.info(o.stream, o.durable);
        const limit = info.config.max_ack_pending ?? -1;
        waiting = info.num_pending > 0 && (limit <= 0 || info.num_ack_pending < limit);
      } catch {
        return; // NATS away or the consumer between leaders: nothing to compare yet
      }
      behind = waiting ? behind + 1 : 0;
      if (behind < STALLED_CHECKS) return;
      behind = 0;
      o.log.warn({ stream: o.stream, consumer: o.durable }, "consumer stalled with messages waiting; consuming again");
      o.onStall();
    })().finally(() => {
      checking = false;
    });
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
