import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { streams, subjects } from "../../events/names.ts";

export interface TopologyOptions {
  /** Stream replicas: 1 on one machine, 3 on a three-server NATS cluster. */
  replicas?: number;
  /** Duplicate window for msgID deduplication. */
  duplicateWindowMs?: number;
  /** Storage limit of the event log in bytes; once reached, appends are refused (default: none). */
  maxLogBytes?: number;
}

const NS = 1_000_000;

/**
 * Creates (or updates) Berth's three streams. Idempotent; every process calls it at start.
 *
 *  - BERTH_EVENTS: the log, kept forever (limits retention, no age limit, no size limit unless
 *    `maxLogBytes`; at a limit new events are refused, old ones are never dropped);
 *  - BERTH_OBSERVATIONS: agent facts until the control plane has folded them (work queue);
 *  - BERTH_DIRECTIVES: per-agent work until the agent acknowledges it (work queue).
 */
export async function ensureStreams(jsm: JetStreamManager, opts: TopologyOptions = {}): Promise<void> {
  const replicas = opts.replicas ?? 1;
  const duplicate_window = (opts.duplicateWindowMs ?? 120_000) * NS;
  const maxLogBytes = opts.maxLogBytes ?? -1;
  const configs = [
    {
      name: streams.events,
      subjects: [subjects.allEvents],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window,
      max_bytes: maxLogBytes,
      // At a limit, refuse the new event: dropping the oldest would silently rewrite history.
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
      const info = await jsm.streams.info(config.name);
      // JetStream enforces a lowered byte limit by deleting the oldest messages, whatever the
      // discard policy: never let a smaller limit eat the log.
      if (config.name === streams.events && maxLogBytes > 0 && info.state.bytes > maxLogBytes)
        throw new Error(
          `the event log already holds ${info.state.bytes} bytes, more than the limit of ${maxLogBytes} asked for; JetStream would delete the oldest events to fit. Ask for a limit of at least ${info.state.bytes} bytes.`,
        );
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
