import { randomBytes } from "node:crypto";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { EVENT_TYPE_HEADER, streams, subjects } from "../../events/names.ts";
import { CLUSTER, FAMILY, REGION, simEnv } from "./env.ts";
import { TaskWatch } from "./watch.ts";

const MSG_ID_HEADER = "Nats-Msg-Id";
const EXPECTED_LAST_SUBJECT_SEQ_HEADER = "Nats-Expected-Last-Subject-Sequence";

/**
 * A large event log for the replay benchmark, made of real events: a small real system (control
 * plane + simulated fleet) runs tasks to completion and stops them, and its log is recorded.
 * The log is then written out again with the recorded task lifecycles repeated under fresh task
 * ids until it holds `events` events — the shapes and sizes of a real log, at any length.
 */

export interface RecordedMessage {
  subject: string;
  type: string;
  /** The Nats-Msg-Id the event store appended it with (its envelope id). */
  msgId: string;
  data: string;
}

export interface Recording {
  /** Cluster, task definition and instance events: written once. */
  prefix: RecordedMessage[];
  /** Each recorded task's events in order (created, running, stop requested, stopped…). */
  lifecycles: { taskId: string; messages: RecordedMessage[] }[];
}

/** Runs `tasks` tasks on a small simulated fleet, stops `stopped` of them, and returns the log. */
export async function recordLog(dir: string, tasks: number, stopped: number): Promise<Recording> {
  const env = await simEnv({ dir, instances: 10, name: "record" });
  try {
    const watch = await TaskWatch.start(env.nc, subjects.tasksOfCluster(REGION, CLUSTER));
    const arns: string[] = [];
    while (arns.length < tasks) {
      const r = await env.api.call<{ tasks: { taskArn: string }[] }>("RunTask", { cluster: CLUSTER, taskDefinition: FAMILY, count: Math.min(10, tasks - arns.length) });
      arns.push(...r.tasks.map((t) => t.taskArn));
    }
    await watch.until(() => watch.started.size >= tasks, 60_000, "recorded tasks RUNNING");
    for (const arn of arns.slice(0, stopped)) await env.api.call("StopTask", { cluster: CLUSTER, task: arn, reason: "replay benchmark" });
    await watch.until(() => watch.stopped.size >= stopped, 60_000, "recorded tasks STOPPED");
    await watch.stop();
    return await readLog(env.nc);
  } finally {
    await env.stop();
  }
}

/**
 * Every message of BERTH_EVENTS: the cluster, task definition and instance events as the prefix,
 * each task's events as its lifecycle.
 */
export async function readLog(nc: NatsConnection): Promise<Recording> {
  const js = jetstream(nc);
  const head = (await (await jetstreamManager(nc)).streams.info(streams.events)).state.last_seq;
  const consumer = await js.consumers.get(streams.events, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  const prefix: RecordedMessage[] = [];
  const byTask = new Map<string, RecordedMessage[]>();
  for await (const m of messages) {
    const rec = {
      subject: m.subject,
      type: m.headers?.get(EVENT_TYPE_HEADER) ?? "",
      msgId: m.headers?.get(MSG_ID_HEADER) ?? "",
      data: m.string(),
    };
    const parts = m.subject.split(".");
    if (parts[3] === "task") {
      const id = parts[5] as string;
      byTask.set(id, [...(byTask.get(id) ?? []), rec]);
    } else prefix.push(rec);
    if (m.seq >= head) break;
  }
  await messages.close();
  return { prefix, lifecycles: [...byTask].map(([taskId, msgs]) => ({ taskId, messages: msgs })) };
}

/**
 * Writes the recording into BERTH_EVENTS, which must be empty, until it holds `events` events: the
 * prefix, then the lifecycles round-robin, each copy under a fresh task id. Every message carries
 * the headers the event store appends with (the event type, the msgID, the expected last sequence
 * of its subject), which the stream keeps and a replay reads: the same bytes as a real log. Core
 * publishes with periodic flushes (no per-message ack): generating the log is not what is measured.
 */
export async function writeLog(nc: NatsConnection, rec: Recording, events: number): Promise<number> {
  let written = 0;
  const lastSeq = new Map<string, number>();
  const put = (m: RecordedMessage) => {
    const h = headers();
    h.set(EVENT_TYPE_HEADER, m.type);
    h.set(MSG_ID_HEADER, m.msgId);
    h.set(EXPECTED_LAST_SUBJECT_SEQ_HEADER, String(lastSeq.get(m.subject) ?? 0));
    nc.publish(m.subject, m.data, { headers: h });
    written++;
    lastSeq.set(m.subject, written);
  };
  for (const m of rec.prefix) put(m);
  let k = 0;
  while (written < events) {
    const life = rec.lifecycles[k++ % rec.lifecycles.length];
    if (!life) throw new Error("the recording has no task lifecycles");
    const id = randomBytes(16).toString("hex");
    for (const m of life.messages) {
      if (written >= events) break;
      put({
        subject: m.subject.replace(life.taskId, id),
        type: m.type,
        msgId: m.msgId.replaceAll(life.taskId, id),
        data: m.data.replaceAll(life.taskId, id),
      });
    }
    if (written % 20_000 < life.messages.length) await nc.flush();
  }
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  // The server stores what it was sent in order; a message it refused (a wrong expected sequence)
  // leaves the count short for good.
  let seen = -1;
  let still = 0;
  for (;;) {
    const stored = (await jsm.streams.info(streams.events)).state.messages;
    if (stored >= written) return stored;
    still = stored === seen ? still + 1 : 0;
    seen = stored;
    if (still >= 50) throw new Error(`only ${stored} of ${written} events stored`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
