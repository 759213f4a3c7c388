import { setTimeout as delay } from "node:timers/promises";
import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { streams, subjects } from "../../events/names.ts";

export interface TopologyOptions {
  /**
   * Stream replicas: 1 on one machine, 3 on a three-server NATS cluster. A minimum: an existing
   * stream with more keeps them (lowering them is for an operator, by hand). Default 1.
   */
  replicas?: number;
  /** Duplicate window for msgID deduplication. */
  duplicateWindowMs?: number;
}

const NS = 1_000_000;

/**
 * Creates (or updates) Berth's three streams. Idempotent; every process calls it at start.
 *
 *  - BERTH_EVENTS: the log, kept forever (limits retention, no age/size limit by default);
 *  - BERTH_OBSERVATIONS: agent facts until the control plane has folded them (work queue);
 *  - BERTH_DIRECTIVES: per-agent work until the agent acknowledges it (work queue).
 *
 * Replicas are raised to `replicas` and never lowered: one control plane started without the
 * cluster's setting must not leave the log on a single server. Returns the fewest replicas any
 * of the streams has now.
 */
export async function ensureStreams(jsm: JetStreamManager, opts: TopologyOptions = {}): Promise<number> {
  const asked = opts.replicas ?? 1;
  const duplicate_window = (opts.duplicateWindowMs ?? 120_000) * NS;
  const configs = [
    {
      name: streams.events,
      subjects: [subjects.allEvents],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: asked,
      duplicate_window,
      // Should anyone set a limit on the log (`nats stream edit`), refuse the new event rather than
      // drop the oldest, which would silently rewrite history. (nats-server before 2.10.5 may
      // still drop the oldest at a byte limit, nats-server#4771: leave the log without one.)
      discard: DiscardPolicy.New,
      // Any replica answers a direct get: the log feed reads on that way while it has no consumer
      // (a cluster that lost a member can take a while to place a new one; see log-feed.ts).
      allow_direct: true,
    },
    {
      name: streams.observations,
      subjects: [subjects.allObservations],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: asked,
      duplicate_window,
    },
    {
      name: streams.directives,
      subjects: [subjects.allDirectives],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: asked,
      duplicate_window,
    },
  ];
  let fewest = Number.POSITIVE_INFINITY;
  for (const config of configs)
    await whileStartingTogether(`stream ${config.name} (${asked} replica${asked === 1 ? "" : "s"})`, async () => {
      const info = await jsm.streams.info(config.name).catch((err: unknown) => {
        if (isStreamNotFound(err)) return undefined;
        throw err;
      });
      const wanted = { ...config, num_replicas: Math.max(asked, info?.config.num_replicas ?? 0) };
      if (!info) await jsm.streams.add(wanted);
      else if (!sameConfig(info.config as unknown as Record<string, unknown>, wanted))
        await jsm.streams.update(config.name, wanted);
      fewest = Math.min(fewest, wanted.num_replicas);
    });
  return fewest;
}

/** Attempts, and the pause before the nth retry (n × this, plus up to as much again at random). */
const ATTEMPTS = 6;
const RETRY_PAUSE_MS = 500;

/**
 * Runs `create` (an idempotent create-or-update of a stream or bucket) until it succeeds, and
 * returns what it returned. Every
 * control plane and agent does this at start, and when several start at once on a fresh NATS
 * cluster, nats-server (2.9) can leave the requests racing for a three-replica stream unanswered
 * ("timeout") or refuse one as already in use: then it looks again, a few times. Anything else,
 * or the last attempt's failure, is thrown, naming what was being created.
 */
export async function whileStartingTogether<T>(what: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (attempt >= ATTEMPTS || !/timeout|already in use/i.test(message))
        throw new Error(`${what} could not be created or checked: ${message}`);
      await delay(attempt * RETRY_PAUSE_MS * (1 + Math.random()));
    }
  }
}

/** Whether a stream's configuration already has every member of `wanted`. */
function sameConfig(actual: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).every(([key, value]) => JSON.stringify(actual[key]) === JSON.stringify(value));
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof Error && /stream not found/i.test(err.message);
}
