import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, expect, test } from "vitest";
import { streams } from "../../events/names.ts";
import { type ControlPlane, startControlPlane } from "../../services/control-plane/control-plane.ts";
import { type NatsCluster, startNatsCluster, withJsm } from "../support/nats-cluster.ts";

/**
 * Two control planes started at the same moment on a fresh three-server NATS cluster, as the
 * README's multi-machine steps may well have them: both create the same three-replica streams and
 * buckets at once, which nats-server can leave unanswered for one of them. Both must come up.
 * A third started without the cluster's replica setting must not take the log down to one.
 */

const log = pino({ level: "silent" });
let cluster: NatsCluster | undefined;
const conns: NatsConnection[] = [];
const planes: ControlPlane[] = [];

afterAll(async () => {
  for (const cp of planes) await cp.stop().catch(() => {});
  for (const nc of conns) await nc.close().catch(() => {});
  await cluster?.stop();
});

test("two control planes started at once on a fresh three-server cluster both serve", async () => {
  cluster = await startNatsCluster(3);
  const servers = cluster.urls;
  const start = async () => {
    const nc = await connect({ servers, noAsyncTraces: true });
    conns.push(nc);
    const cp = await startControlPlane({ nc, log, port: 0, replicas: 3 });
    planes.push(cp);
    return cp;
  };
  const [a, b] = await Promise.all([start(), start()]);
  for (const cp of [a, b]) {
    const r = await fetch(`${cp.url}/health`);
    expect(r.status).toBe(200);
  }
}, 120_000);

test("a control plane started asking for one replica leaves the cluster's three-replica streams as they are", async () => {
  const servers = cluster?.urls as string[];
  const nc = await connect({ servers, noAsyncTraces: true });
  conns.push(nc);
  planes.push(await startControlPlane({ nc, log, port: 0 }));
  const replicas = await withJsm(servers, async (jsm) =>
    Promise.all([streams.events, streams.observations, streams.directives].map(async (name) => (await jsm.streams.info(name)).config.num_replicas)),
  );
  expect(replicas).toEqual([3, 3, 3]);
}, 120_000);
