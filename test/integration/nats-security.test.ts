import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RegisterReply, SyncReply } from "../../events/agent.ts";
import { buckets, consumers, streams, subjects } from "../../events/names.ts";
import { type EmbeddedNats, startEmbeddedNats } from "../../services/cli/nats-embed.ts";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/control-plane.ts";
import {
  type AgentUser,
  clientAuth,
  ensureNatsUsers,
  type NatsUsers,
  writeNatsServerConfig,
} from "../../services/security/nats-credentials.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The NATS users `berth up` generates, against a real nats-server started from the generated
 * configuration: each role can do its part of the protocol and is refused everything else.
 */

const REGION = "us-east-1";
const log = pino({ level: "silent" });
let dir: string;
let users: NatsUsers;
let nats: EmbeddedNats;
let cp: NatsConnection;
let plane: ControlPlane;
let A: AgentUser;
let B: AgentUser;
const open: NatsConnection[] = [];

async function as(u: { user: string; password: string }): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url, reconnect: false, ...clientAuth(u) });
  open.push(nc);
  return nc;
}

/** Permission errors the server reported to this connection, collected as they arrive. */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === "error") seen.push(String(s.error?.message ?? s.error));
  })();
  return seen;
}

/** A core publish is fire-and-forget: the refusal arrives as an asynchronous -ERR naming the subject. */
async function expectPublishRefused(nc: NatsConnection, seen: string[], subject: string) {
  nc.publish(subject, "{}");
  await nc.flush();
  await waitFor(() => seen.some((m) => m.includes("Permissions Violation for Publish") && m.includes(`"${subject}"`)), {
    timeoutMs: 5_000,
    what: `the server to refuse a publish to ${subject}`,
  });
}

async function expectSubscribeRefused(nc: NatsConnection, subject: string) {
  const sub = nc.subscribe(subject);
  await nc.flush();
  const closed = await Promise.race([sub.closed, new Promise((r) => setTimeout(() => r("still open"), 5_000))]);
  expect(String(closed)).toMatch(/Permissions Violation for Subscription/);
}

const refused = /Permissions Violation/;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-nats-security-"));
  const agents = ["a", "b"].map((name) => ({ name, region: REGION, cluster: "default", stateDir: join(dir, "agent") }));
  users = await ensureNatsUsers(dir, agents);
  A = users.agents.a as AgentUser;
  B = users.agents.b as AgentUser;
  const configFile = await writeNatsServerConfig(dir, users);
  nats = await startEmbeddedNats(dir, await freePort(), log, {
    configFile,
    user: users.controlPlane.user,
    pass: users.controlPlane.password,
  });
  cp = await as(users.controlPlane);
  plane = await startControlPlane({ nc: cp, log, port: 0, defaultRegion: REGION });
});

afterAll(async () => {
  await plane?.stop();
  for (const nc of open) await nc.close().catch(() => {});
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the generated users and configuration", () => {
  test("credentials and configuration are private files; a second start reuses the users", async () => {
    expect(statSync(join(dir, "security", "nats-users.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "security", "nats-server.conf")).mode & 0o777).toBe(0o600);
    const again = await ensureNatsUsers(dir, [
      { name: "a", region: REGION, cluster: "default", stateDir: join(dir, "agent") },
    ]);
    expect(again.controlPlane).toEqual(users.controlPlane);
    expect(again.agents.a).toEqual(A);
    expect(A.instanceId).not.toBe(B.instanceId);
    // An agent added later is kept in the file beside the others.
    const more = await ensureNatsUsers(dir, [
      { name: "later", region: REGION, cluster: "default", stateDir: join(dir, "agent-later") },
    ]);
    const saved = JSON.parse(readFileSync(join(dir, "security", "nats-users.json"), "utf8"));
    expect(saved.agents.later).toEqual(more.agents.later);
    expect(saved.agents.a).toEqual(A);
  });

  test("the server's configuration holds bcrypt hashes, not the passwords", () => {
    const conf = readFileSync(join(dir, "security", "nats-server.conf"), "utf8");
    for (const u of [users.controlPlane, users.reader, A, B]) {
      expect(conf).not.toContain(u.password);
      expect(conf).toContain(JSON.stringify(u.passwordHash));
      expect(u.passwordHash).toMatch(/^\$2[aby]\$11\$/);
    }
  });

  test("a client without a user, or with a wrong password, is not let in", async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
    await expect(
      connect({ servers: nats.url, reconnect: false, user: A.user, pass: `${A.password}x` }),
    ).rejects.toThrow(/Authorization Violation/);
  });
});

describe("an agent", () => {
  test("registers, syncs, publishes its observations, heartbeats and consumes its own directives", async () => {
    const nc = await as(A);
    const reg = RegisterReply.parse(
      (
        await nc.request(
          subjects.register(REGION, A.instanceId),
          JSON.stringify({
            cluster: "default",
            instanceId: A.instanceId,
            hostname: "host-a",
            totalResources: [],
            attributes: [],
            versionInfo: {},
          }),
          { timeout: 10_000 },
        )
      ).json(),
    );
    expect(reg).toMatchObject({ ok: true, instanceId: A.instanceId });
    const sync = SyncReply.parse(
      (
        await nc.request(subjects.sync(REGION, A.instanceId), JSON.stringify({ cluster: "default", instanceId: A.instanceId }), {
          timeout: 10_000,
        })
      ).json(),
    );
    expect(sync).toEqual({ ok: true, tasks: [] });

    const js = jetstream(nc);
    const ack = await js.publish(subjects.observations(REGION, A.instanceId), "{}", { msgID: `obs-${A.instanceId}` });
    expect(ack.stream).toBe(streams.observations);

    const kv = await new Kvm(js).open(buckets.heartbeats);
    await kv.status();
    await kv.put(
      `${REGION}.${A.instanceId}`,
      JSON.stringify({ cluster: "default", instanceId: A.instanceId, at: 1, bootAt: 1 }),
    );

    const jsm = await jetstreamManager(nc);
    const durable = consumers.directives(A.instanceId);
    await jsm.consumers.add(streams.directives, {
      durable_name: durable,
      filter_subject: subjects.directives(REGION, A.instanceId),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    await jetstream(cp).publish(subjects.directives(REGION, A.instanceId), JSON.stringify({ probe: true }));
    const consumer = await js.consumers.get(streams.directives, durable);
    const m = await consumer.next({ expires: 5_000 });
    expect(m?.json()).toEqual({ probe: true });
    expect(await m?.ackAck()).toBe(true);
  });

  test("may not speak for another agent: its observations, heartbeat and directives are refused", async () => {
    const nc = await as(A);
    const js = jetstream(nc);
    await expect(js.publish(subjects.observations(REGION, B.instanceId), "{}")).rejects.toThrow(refused);
    const kv = await new Kvm(js).open(buckets.heartbeats);
    await expect(kv.put(`${REGION}.${B.instanceId}`, "{}")).rejects.toThrow(refused);
    const jsm = await jetstreamManager(nc);
    await expect(
      jsm.consumers.add(streams.directives, {
        durable_name: consumers.directives(B.instanceId),
        filter_subject: subjects.directives(REGION, B.instanceId),
        ack_policy: AckPolicy.Explicit,
      }),
    ).rejects.toThrow(refused);
    // Its own durable name with another agent's filter is refused too: the subject carries the filter.
    await expect(
      jsm.consumers.add(streams.directives, {
        durable_name: consumers.directives(A.instanceId),
        filter_subject: subjects.directives(REGION, B.instanceId),
        ack_policy: AckPolicy.Explicit,
      }),
    ).rejects.toThrow(refused);
    await expect(js.consumers.get(streams.directives, consumers.directives(B.instanceId))).rejects.toThrow(refused);
    await expectSubscribeRefused(nc, subjects.directives(REGION, B.instanceId));
    await expectSubscribeRefused(nc, subjects.allObservations);
    await expectSubscribeRefused(nc, "_INBOX.>");
    await expectSubscribeRefused(nc, `_INBOX_${B.user}.>`);
    // Nor ask for another instance's tasks, or register in its name.
    const seen = violations(nc);
    await expectPublishRefused(nc, seen, subjects.sync(REGION, B.instanceId));
    await expectPublishRefused(nc, seen, subjects.register(REGION, B.instanceId));
  });

  test("may not write events, directives or streams, nor read the log", async () => {
    const nc = await as(A);
    const seen = violations(nc);
    await expectPublishRefused(nc, seen, subjects.cluster(REGION, "forged"));
    await expectPublishRefused(nc, seen, subjects.directives(REGION, A.instanceId));
    await expectPublishRefused(nc, seen, `$JS.API.STREAM.PURGE.${streams.events}`);
    await expectPublishRefused(nc, seen, `$JS.API.STREAM.DELETE.${streams.directives}`);
    await expectSubscribeRefused(nc, subjects.allEvents);
    await expect(jetstream(nc).consumers.get(streams.events)).rejects.toThrow(refused);
  });

  test("streams a followed log under its own instance only", async () => {
    const nc = await as(A);
    const seen = violations(nc);
    const own = subjects.logStream(REGION, A.instanceId, "stream-1");
    const received: unknown[] = [];
    cp.subscribe(own, {
      max: 1,
      callback: (_e, m) => {
        received.push(m.json());
      },
    });
    await cp.flush();
    nc.publish(own, JSON.stringify({ type: "end", reason: "stopped" }));
    await waitFor(() => received.length > 0 || seen.length > 0, {
      timeoutMs: 5_000,
      what: "the followed log's message, or its refusal",
    });
    expect(seen).toEqual([]);
    expect(received).toEqual([{ type: "end", reason: "stopped" }]);
    await expectPublishRefused(nc, seen, subjects.logStream(REGION, B.instanceId, "stream-1"));
    await expectPublishRefused(nc, seen, "_INBOX.followed-log");
  });
});

describe("the reader", () => {
  test("follows events live and replays the log", async () => {
    const nc = await as(users.reader);
    const live = nc.subscribe(subjects.allEvents, { max: 1 });
    await nc.flush();
    const subject = subjects.cluster(REGION, "reader-probe");
    await jetstream(cp).publish(subject, JSON.stringify({ probe: 1 }));
    for await (const m of live) expect(m.subject).toBe(subject);

    const jsm = await jetstreamManager(nc);
    const head = (await jsm.streams.info(streams.events)).state.last_seq;
    expect(head).toBeGreaterThan(0);
    const replay = await jetstream(nc).consumers.get(streams.events, { filter_subjects: subject });
    const m = await replay.next({ expires: 5_000 });
    expect(m?.subject).toBe(subject);
  });

  test("keeps a durable consumer of its own: its acks move it on, and it can remove it", async () => {
    const nc = await as(users.reader);
    const jsm = await jetstreamManager(nc);
    const subject = subjects.cluster(REGION, "audit-probe");
    await jetstream(cp).publish(subject, JSON.stringify({ probe: 2 }));
    await jsm.consumers.add(streams.events, {
      durable_name: "audit",
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
    });
    const m = await (await jetstream(nc).consumers.get(streams.events, "audit")).next({ expires: 5_000 });
    expect(m?.subject).toBe(subject);
    expect(await m?.ackAck()).toBe(true);
    expect((await jsm.consumers.info(streams.events, "audit")).ack_floor.stream_seq).toBe(m?.seq);
    expect(await jsm.consumers.delete(streams.events, "audit")).toBe(true);
    // The log is as it was: acks on it remove nothing.
    expect((await jsm.streams.getMessage(streams.events, { seq: m?.seq as number }))?.subject).toBe(subject);
  });

  test("may not publish, delete or read agents' traffic", async () => {
    const nc = await as(users.reader);
    const seen = violations(nc);
    await expectPublishRefused(nc, seen, subjects.cluster(REGION, "forged"));
    await expectPublishRefused(nc, seen, subjects.observations(REGION, A.instanceId));
    await expect(jetstream(nc).publish(subjects.cluster(REGION, "forged"), "{}")).rejects.toThrow(refused);
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.purge(streams.events)).rejects.toThrow(refused);
    await expect(jsm.streams.delete(streams.events)).rejects.toThrow(refused);
    await expect(jetstream(nc).consumers.get(streams.directives)).rejects.toThrow(refused);
    await expectSubscribeRefused(nc, subjects.allObservations);
    await expectSubscribeRefused(nc, subjects.allDirectives);
    await expectSubscribeRefused(nc, subjects.registerAny(REGION));
  });
});
