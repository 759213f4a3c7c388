import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { Envelope } from "../../events/envelope.ts";
import { streams } from "../../events/names.ts";

export interface LoggedEvent {
  seq: number;
  subject: string;
  envelope: Envelope;
}

/**
 * Every message of the event log (BERTH_EVENTS), read from the beginning with an ordered
 * consumer on a connection of its own — what any integration replaying the log would see.
 */
export async function readEventLog(servers: string | string[]): Promise<LoggedEvent[]> {
  const nc = await connect({ servers, name: "test-log-reader" });
  try {
    const last = (await (await jetstreamManager(nc)).streams.info(streams.events)).state.last_seq;
    const out: LoggedEvent[] = [];
    if (last === 0) return out;
    const consumer = await jetstream(nc).consumers.get(streams.events, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume();
    for await (const m of messages) {
      out.push({ seq: m.seq, subject: m.subject, envelope: m.json<Envelope>() });
      if (m.seq >= last) break;
    }
    await messages.close();
    return out;
  } finally {
    await nc.close();
  }
}

/** TaskCreated events of one cluster, as (task subject, clientToken, instance) rows. */
export function tasksCreated(log: LoggedEvent[], cluster: string) {
  return log
    .filter((e) => e.envelope.type === "TaskCreated")
    .map((e) => {
      const d = e.envelope.data as unknown as {
        taskArn: string;
        clientToken?: string;
        instanceId?: string;
        spec: { cluster: string };
      };
      return {
        subject: e.subject,
        taskArn: d.taskArn,
        clientToken: d.clientToken?.replace(/#[^#]*$/, ""),
        instanceId: d.instanceId,
        cluster: d.spec.cluster,
      };
    })
    .filter((t) => t.cluster === cluster);
}
