import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { uniqueName } from "./docker.ts";
import { type NatsServerHandle, startNatsServer } from "./nats-server.ts";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/**
 * A NATS cluster on loopback: `size` nats-server processes routed to each other, each with
 * JetStream on a store of its own — the distributed engine Berth runs on past one machine
 * (streams with three replicas). Each member is a NatsServerHandle, so a test can kill -9 one and
 * restart it on the same ports and store.
 */
export interface NatsCluster {
  readonly name: string;
  /** Client URLs of every member, in order. */
  readonly urls: string[];
  readonly members: { serverName: string; handle: NatsServerHandle }[];
  member(serverName: string): NatsServerHandle;
  stop(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const name = uniqueName("berth-cluster");
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })),
  );
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
  // Started together: JetStream answers only once a majority of the cluster has met.
  const handles = await Promise.all(
    ports.map((p, i) =>
      startNatsServer({
        port: p.client,
        readyTimeoutMs: 60_000,
        args: [
          "--server_name",
          `n${i + 1}`,
          "--cluster_name",
          name,
          "--cluster",
          `nats://127.0.0.1:${p.route}`,
          "--routes",
          routes.filter((_, j) => j !== i).join(","),
        ],
      }),
    ),
  );
  const members = handles.map((handle, i) => ({ serverName: `n${i + 1}`, handle }));
  const urls = handles.map((h) => h.url);
  // JetStream answers before every member has joined its meta group; a replicated stream can be
  // placed only once they all have.
  await waitFor(
    () =>
      withJsm(urls, async (jsm) => {
        const probe = `PROBE_${name.replaceAll("-", "_")}`;
        await jsm.streams.add({ name: probe, subjects: [`probe.${probe}`], num_replicas: size });
        await jsm.streams.delete(probe);
        return true;
      }),
    { timeoutMs: 60_000, intervalMs: 250, what: `a ${size}-replica stream placeable on cluster ${name}` },
  );
  return {
    name,
    urls,
    members,
    member(serverName) {
      const m = members.find((x) => x.serverName === serverName);
      if (!m) throw new Error(`no member ${serverName} in ${members.map((x) => x.serverName).join(", ")}`);
      return m.handle;
    },
    async stop() {
      await Promise.all(handles.map((h) => h.stop()));
    },
  };
}

/** Runs `fn` with a JetStream manager on a connection to any live member. */
export async function withJsm<T>(urls: string[], fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: urls, name: "test-cluster-admin", timeout: 2_000 });
  try {
    return await fn(await jetstreamManager(nc, { timeout: 5_000 }));
  } finally {
    await nc.close();
  }
}

/** The server name of a stream's current leader. */
export async function streamLeader(urls: string[], stream: string): Promise<string> {
  return waitFor(() => withJsm(urls, async (jsm) => (await jsm.streams.info(stream)).cluster?.leader), {
    timeoutMs: 30_000,
    what: `a leader for stream ${stream}`,
  });
}

/** Waits until every replica of every stream is online and current: the cluster has healed. */
export async function waitClusterCurrent(urls: string[], replicas: number, timeoutMs: number): Promise<void> {
  await waitFor(
    () =>
      withJsm(urls, async (jsm) => {
        for await (const si of jsm.streams.list()) {
          const c = si.cluster;
          const peers = c?.replicas ?? [];
          const healthy =
            c?.leader !== undefined && peers.length === replicas - 1 && peers.every((r) => r.current && !r.offline);
          if (!healthy) throw new Error(`${si.config.name} not healed: ${JSON.stringify(c)}`);
        }
        return true;
      }),
    { timeoutMs, intervalMs: 500, what: "every stream's replicas online and current" },
  );
}

/** The member hosting each ephemeral (non-durable) consumer of a stream, e.g. a client's ordered consumer or KV watch. */
export async function ephemeralConsumerHosts(urls: string[], stream: string): Promise<string[]> {
  return withJsm(urls, async (jsm) => {
    const hosts: string[] = [];
    for await (const ci of jsm.consumers.list(stream)) {
      if (!ci.config.durable_name && ci.cluster?.leader) hosts.push(ci.cluster.leader);
    }
    return hosts;
  });
}

/**
 * Asks the leader of a stream (or of one of its consumers) to step down until `serverName` leads
 * it — each election picks a new leader among the in-sync replicas — so a test can kill the member
 * that holds everything it means to take away at once.
 */
export async function moveLeader(urls: string[], serverName: string, stream: string, consumer?: string): Promise<void> {
  const STEPDOWNS = 20;
  const what = consumer ? `consumer ${stream} > ${consumer}` : `stream ${stream}`;
  const leader = () =>
    waitFor(
      () =>
        withJsm(urls, async (jsm) =>
          consumer
            ? (await jsm.consumers.info(stream, consumer)).cluster?.leader
            : (await jsm.streams.info(stream)).cluster?.leader,
        ),
      { timeoutMs: 30_000, what: `a leader for ${what}` },
    );
  for (let i = 0; i < STEPDOWNS; i++) {
    const current = await leader();
    if (current === serverName) return;
    const nc = await connect({ servers: urls, name: "test-cluster-admin", timeout: 2_000 });
    try {
      const api = consumer
        ? `$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`
        : `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`;
      await nc.request(api, "", { timeout: 5_000 });
    } finally {
      await nc.close();
    }
    await waitFor(async () => (await leader()) !== current, { timeoutMs: 30_000, what: `a new leader for ${what}` });
  }
  throw new Error(`${serverName} did not become the leader of ${what} in ${STEPDOWNS} step-downs`);
}
