import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { streams, subjects } from "../../events/names.ts";

export interface TopologyOptions {
  /** Stream replicas: 1 on one machine, 3 on a three-server NATS cluster. */
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
 */
export async function ensureStreams(jsm: JetStreamManager, opts: TopologyOptions = {}): Promise<void> {
  const replicas = opts.replicas ?? 1;
  const duplicate_window = (opts.duplicateWindowMs ?? 120_000) * NS;
  const configs = [
    {
      name: streams.events,
      subjects: [subjects.allEvents],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window,
      // Should anyone set a limit on the log (`nats stream edit`), refuse the new event rather than
      // drop the oldest, which would silently rewrite history. (nats-server before 2.10.5 may
      // still drop the oldest at a byte limit, nats-server#4771: leave the log without one.)
      discard: DiscardPolicy.New,
    },
    {
      name: streams.observations,
      subjects: [subjects.allObservations],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window,
    },
    {
      name: streams.directives,
      subjects: [subjects.allDirectives],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window,
    },
  ];
  for (const config of configs) {
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
      await jsm.streams.add(config);
    }
  }
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof Error && /stream not found/i.test(err.message);
}
