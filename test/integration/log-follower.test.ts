import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { streams, subjects } from "../../events/names.ts";
import { LogFollower } from "../../services/store/log-follower.ts";
import { ensureStreams } from "../../services/store/topology.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";

// The follower's promise: every message of the log, once each and in order, whatever happens to
// the consumer that delivers them — deleted under it, or lost with a nats-server killed and
// restarted.

const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await ensureStreams(await jetstreamManager(nc));
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const subject = subjects.cluster("us-east-1", "follow");

async function append(n: number): Promise<number> {
  const js = jetstream(nc);
  let last = 0;
  for (let i = 0; i < n; i++) last = (await js.publish(subject, `{"n":${i}}`)).seq;
  return last;
}

/** Sequences 1…head, each once, in order. */
const upTo = (head: number) => Array.from({ length: head }, (_, i) => i + 1);

test("every message once and in order, across a deleted consumer and a nats-server killed and restarted", { timeout: 120_000 }, async () => {
  await append(500);
  const seen: number[] = [];
  const follower = new LogFollower(nc, log, (m) => {
    seen.push(m.seq);
  });
  await follower.start(1);
  let head = await append(500);
  await follower.waitFor(head, 30_000);
  expect(seen).toEqual(upTo(head));

  // The consumer disappears under the follower: it goes on with a new one from the next message.
  const jsm = await jetstreamManager(nc);
  for await (const ci of jsm.consumers.list(streams.events)) await jsm.consumers.delete(streams.events, ci.name);
  head = await append(300);
  await follower.waitFor(head, 30_000);
  expect(seen).toEqual(upTo(head));

  // nats-server dies with the (in-memory) consumer and comes back with the stream.
  await server.kill9();
  await server.restart();
  head = await waitForAppend(300);
  await follower.waitFor(head, 30_000);
  expect(seen).toEqual(upTo(head));

  // From a later sequence, as after a snapshot.
  const later: number[] = [];
  const second = new LogFollower(nc, log, (m) => {
    later.push(m.seq);
  });
  await second.start(head - 99);
  await second.waitFor(head, 30_000);
  expect(later).toEqual(upTo(head).slice(-100));

  await second.stop();
  await follower.stop();
});

/** Appends once the client is back on the restarted server (publishes fail until then). */
async function waitForAppend(n: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await append(n);
    } catch (err) {
      if (attempt > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
