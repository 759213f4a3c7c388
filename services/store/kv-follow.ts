import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvEntry, KvWatchOptions } from "@nats-io/kv";
import type { Logger } from "pino";

/** How often the bucket is asked for an entry after the last one the watch delivered. */
const CHECK_EVERY_MS = 2_500;
/** Consecutive checks that must find the watch behind (and not moving) before it is recreated. */
const STALLED_CHECKS = 2;

export interface KvFollow {
  stop(): Promise<void>;
}

/**
 * Follows every update of a KV bucket (current values first, then changes) and keeps following
 * through NATS restarts and cluster failovers. The client's watch is an ordered push consumer;
 * when the server holding it dies in a NATS cluster, the watch stays silent until two of its
 * 30 s idle heartbeats are missed — a minute in which, for the heartbeats bucket, every agent
 * looks lost (test/chaos/nats-cluster.test.ts). So every CHECK_EVERY_MS this asks the bucket's
 * stream for a stored entry after the last revision delivered: when there is one and the watch
 * has not moved, twice in a row, the watch is recreated from the revision after the last one
 * delivered. Nothing is skipped; an entry may be delivered twice around a recreation, so
 * `onEntry` must be idempotent (a heartbeat is).
 */
export async function followBucket(
  kv: KV,
  jsm: JetStreamManager,
  onEntry: (e: KvEntry) => void | Promise<void>,
  log: Logger,
  opts: Pick<KvWatchOptions, "key"> = {},
): Promise<KvFollow> {
  let stopped = false;
  let delivered = 0;
  let watch = await kv.watch(opts);
  const drain = async (w: typeof watch) => {
    try {
      for await (const e of w) {
        delivered = Math.max(delivered, e.revision);
        try {
          await onEntry(e);
        } catch (err) {
          log.warn({ err, key: e.key }, "watched entry not handled");
        }
      }
    } catch (err) {
      // The watch ended with an error; the stall check recreates it once the bucket moves on.
      if (!stopped) log.warn({ err }, "KV watch ended");
    }
  };
  void drain(watch);

  let stream: string | undefined;
  let behind = 0;
  let deliveredAtLastCheck = delivered;
  const check = async () => {
    let waiting: boolean;
    try {
      stream ??= (await kv.status()).streamInfo.config.name;
      const next = await jsm.direct.getMessage(stream, { seq: delivered + 1, next_by_subj: ">" });
      waiting = next !== null && next !== undefined;
    } catch {
      return; // NATS away: nothing to compare, and the watch cannot be recreated either
    }
    const moving = delivered !== deliveredAtLastCheck;
    deliveredAtLastCheck = delivered;
    behind = waiting && !moving ? behind + 1 : 0;
    if (behind < STALLED_CHECKS || stopped) return;
    log.warn({ stream, revision: delivered }, "KV watch stalled; recreating it");
    behind = 0;
    try {
      const next = await kv.watch({ ...opts, resumeFromRevision: delivered + 1 });
      watch.stop();
      if (stopped) {
        next.stop();
        return;
      }
      watch = next;
      void drain(next);
    } catch (err) {
      log.warn({ err, stream }, "KV watch not recreated; will try again");
    }
  };
  // One check at a time: a slow one (NATS away) delays the next instead of piling up.
  let checking = Promise.resolve();
  const timer = setInterval(() => {
    checking = checking.then(check);
  }, CHECK_EVERY_MS);
  timer.unref();

  return {
    // Stops delivering; an entry being handled finishes on its own.
    async stop() {
      stopped = true;
      clearInterval(timer);
      watch.stop();
    },
  };
}
