import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { ClusterCreated } from "../../events/cluster.events.ts";
import { type Envelope, envelope } from "../../events/envelope.ts";
import { EVENT_TYPE_HEADER, streams, subjects } from "../../events/names.ts";
import { readLog, writeLog } from "../../services/bench/replay-log.ts";
import { EventStore } from "../../services/store/event-store.ts";
import { ensureStreams } from "../../services/store/topology.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";

/**
 * The replay benchmark's log (services/bench/replay-log.ts) is a recorded real log written out
 * again under fresh task ids: its messages must be what the event store would have appended —
 * the same headers (type, msgID, expected last subject sequence), which the stream keeps and a
 * replay reads — and a real store must be able to go on appending to it.
 */

let server: NatsServerHandle;
let nc: NatsConnection;
const log = pino({ level: "silent" });
const REGION = "us-east-1";
const TASK_IDS = ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const store = async () => new EventStore(nc, jetstream(nc), await jetstreamManager(nc), log);

/** Any event will do: the log is copied, not folded. Its content names the task, as real ones do. */
const event = (name: string, at: number): ClusterCreated => ({
  type: "ClusterCreated",
  at,
  clusterArn: `arn:aws:ecs:${REGION}:000000000000:cluster/${name}`,
  clusterName: name,
  settings: [],
  capacityProviders: [],
  defaultCapacityProviderStrategy: [],
  tags: [],
});

async function appendAll(s: EventStore, subject: string, events: ClusterCreated[]) {
  const envs = events.map((e, i) => envelope(subject, e.clusterArn, i + 1, e, { source: "test" }));
  await s.append(subject, envs, await s.lastSeq(subject));
}

test("written under fresh task ids with the event store's headers, and a store appends after it", async () => {
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  const s = await store();
  await appendAll(s, subjects.cluster(REGION, "bench"), [event("bench", 1)]);
  for (const id of TASK_IDS)
    await appendAll(s, subjects.task(REGION, "bench", id), [event(`task-${id}`, 2), event(`task-${id}`, 3), event(`task-${id}`, 4)]);
  const recording = await readLog(nc);
  expect(recording.prefix).toHaveLength(1);
  expect(recording.lifecycles.map((l) => l.taskId).sort()).toEqual([...TASK_IDS].sort());

  // A fresh stream, written out again: the prefix and five lifecycle copies of three events.
  await jsm.streams.delete(streams.events);
  await ensureStreams(jsm);
  const written = await writeLog(nc, recording, 16);
  expect(written).toBe(16);

  const messages = await jetstream(nc).consumers.get(streams.events).then((c) => c.fetch({ max_messages: 16 }));
  const lastOf = new Map<string, number>();
  const tasks = new Set<string>();
  let count = 0;
  for await (const m of messages) {
    const env = m.json<Envelope>();
    expect(m.headers?.get(EVENT_TYPE_HEADER)).toBe(env.type);
    expect(m.headers?.get("Nats-Msg-Id")).toBe(env.id);
    expect(env.id.startsWith(`${m.subject}:`)).toBe(true);
    expect(m.headers?.get("Nats-Expected-Last-Subject-Sequence")).toBe(String(lastOf.get(m.subject) ?? 0));
    lastOf.set(m.subject, m.seq);
    const id = m.subject.split(".")[5];
    if (id) {
      tasks.add(id);
      expect(env.data).toMatchObject({ clusterName: `task-${id}` });
    }
    if (++count === 16) break;
  }
  expect(tasks.size).toBe(5);
  for (const id of TASK_IDS) expect(tasks.has(id)).toBe(false);

  // The store appends after the written log as after its own.
  const subject = [...lastOf.keys()].at(-1) as string;
  const next = envelope(subject, "arn:next", 9, event("next", 5), { source: "test" });
  const [appended] = await s.append(subject, [next], lastOf.get(subject) as number);
  expect(appended?.seq).toBe(17);
});
