import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { streams, subjects } from "../../events/names.ts";
import { LogFollower } from "../../services/store/log-follower.ts";
import { ensureStreams } from "../../services/store/topology.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { waitFor } from "../support/wait.ts";

// The follower's promise: every message of the log, once each and in order, whatever happens to
// the consumer that delivers them — deleted under it, lost with a nats-server killed and
// restarted, or not to be had for a while.

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

test("every message once and in order, across a deleted consumer and a nats-server killed and restarted", {
  timeout: 120_000,
}, async () => {
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

test("while no consumer can be made, the follower reads on by direct gets, once each and in order, and a consumer takes over when one can", {
  timeout: 120_000,
}, async () => {
  // A server whose control-plane user may, for a while, not create consumers on the log: as when
  // a NATS cluster that lost a member cannot place one. The permission changes by config reload.
  const dir = mkdtempSync(join(tmpdir(), "berth-follower-"));
  const config = join(dir, "nats.conf");
  const writeConfig = (createAllowed: boolean) => {
    const deny = createAllowed
      ? []
      : [`$JS.API.CONSUMER.CREATE.${streams.events}`, `$JS.API.CONSUMER.CREATE.${streams.events}.>`];
    const users = [
      { user: "cp", password: "cp", permissions: { publish: { allow: [">"], deny }, subscribe: { allow: [">"] } } },
      { user: "admin", password: "admin" },
    ];
    // JetStream in the file, not on the command line: a reload would otherwise turn it off.
    const jetstreamBlock = `jetstream { store_dir: ${JSON.stringify(join(dir, "store"))} }`;
    writeFileSync(config, `${jetstreamBlock}\nauthorization {\n  users = ${JSON.stringify(users)}\n}\n`);
  };
  writeConfig(true);
  const restricted = await startNatsServer({ jetstream: false, args: ["-c", config], probeUser: { user: "admin", pass: "admin" } });
  const cp = await connect({
    servers: restricted.url,
    user: "cp",
    pass: "cp",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  const admin = await connect({ servers: restricted.url, user: "admin", pass: "admin" });
  try {
    const jsm = await jetstreamManager(admin);
    await ensureStreams(jsm);
    const js = jetstream(admin);
    const appendN = async (n: number) => {
      let last = 0;
      for (let i = 0; i < n; i++) last = (await js.publish(subject, `{"n":${i}}`)).seq;
      return last;
    };
    const seen: number[] = [];
    const follower = new LogFollower(cp, log, (m) => {
      seen.push(m.seq);
    });
    await follower.start(1);
    let head = await appendN(200);
    await follower.waitFor(head, 30_000);

    // No consumer can be made, and the one the follower had is gone: it reads on without one.
    writeConfig(false);
    process.kill(restricted.pid, "SIGHUP");
    await waitFor(
      async () => {
        try {
          await jetstreamManager(cp, { timeout: 1_000 }).then((m) =>
            m.consumers.add(streams.events, { ack_policy: AckPolicy.None }),
          );
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 10_000, what: "consumer creation refused after the reload" },
    );
    for await (const ci of jsm.consumers.list(streams.events)) await jsm.consumers.delete(streams.events, ci.name);
    head = await appendN(300);
    await follower.waitFor(head, 30_000);
    expect(seen).toEqual(upTo(head));
    const consumersNow: string[] = [];
    for await (const ci of jsm.consumers.list(streams.events)) consumersNow.push(ci.name);
    expect(consumersNow).toEqual([]);

    // Allowed again: a consumer is made, and delivery goes on through it, still once each and in order.
    writeConfig(true);
    process.kill(restricted.pid, "SIGHUP");
    await waitFor(
      async () => {
        const names: string[] = [];
        for await (const ci of jsm.consumers.list(streams.events)) names.push(ci.name);
        return names.length === 1;
      },
      { timeoutMs: 30_000, what: "the follower's new consumer" },
    );
    head = await appendN(300);
    await follower.waitFor(head, 30_000);
    expect(seen).toEqual(upTo(head));
    await follower.stop();
  } finally {
    await cp.close();
    await admin.close();
    await restricted.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
