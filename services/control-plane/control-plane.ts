import type { AddressInfo } from "node:net";
import { AckPolicy, type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { DEFAULT_LOST_AGENT_TIMEOUT_MS } from "../../events/agent.ts";
import { buckets, consumers, streams } from "../../events/names.ts";
import type { ApiAuth } from "../api/auth/authenticator.ts";
import type { ApiServices, Handler, Ids } from "../api/context.ts";
import { ecsHandlers } from "../api/handlers/index.ts";
import { createApiServer, type HttpRoute } from "../api/server.ts";
import { consoleRoutes } from "../console/routes.ts";
import { Lease } from "../scheduler/lease.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { watchConsumer } from "../store/consumer-watchdog.ts";
import { EndOfTurn } from "../store/end-of-turn.ts";
import type { EventStore } from "../store/event-store.ts";
import { followBucket } from "../store/kv-follow.ts";
import { LogFollower } from "../store/log-follower.ts";
import { ensureStreams, whileStartingTogether } from "../store/topology.ts";
import { AgentGateway } from "./agents.ts";
import { CommandBus } from "./commands.ts";
import { EcsEventPublisher } from "./ecs-events.ts";
import { tuneHeapForServing } from "./heap-tuning.ts";
import { randomIds } from "./ids.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { logsRoute } from "./logs-route.ts";
import { MeasuredEventStore, Metrics } from "./metrics.ts";
import { Reactor } from "./reactor.ts";
import { ReadModel } from "./read-model.ts";
import { type MasterKeyOptions, masterKey, SecretStore, secretsRoutes, serveAgentSecrets } from "./secrets.ts";
import { SnapshotStore, Snapshotter } from "./snapshots.ts";

export interface ControlPlaneOptions {
  nc: NatsConnection;
  log: Logger;
  host?: string;
  port?: number;
  defaultRegion?: string;
  account?: string;
  /** Stream and bucket replicas (3 on a three-server NATS cluster): a minimum, never lowered. Default 1. */
  replicas?: number;
  /** An agent without a heartbeat for this long is marked disconnected. */
  lostAgentTimeoutMs?: number;
  /** A RUNNING service task with no health check counts toward minimumHealthyPercent after this long (default 40 s, as ECS). */
  noHealthCheckWaitMs?: number;
  /** Once serving, V8 grows old space by this percentage of the live heap (heap-tuning.ts); default V8's own. */
  heapGrowthPercent?: number;
  clock?: () => number;
  ids?: Ids;
  /** Scheduler lease time: a new leader takes over at most this long after the old one died. */
  leaseTtlMs?: number;
  /** Extra HTTP routes (console, metrics) added by the entry point. */
  routes?: (cp: ControlPlaneParts) => HttpRoute[];
  handlers?: Record<string, Handler>;
  /** SigV4 + policies for the ECS API; without it the API runs in open development mode. */
  auth?: ApiAuth;
  /** The secret store's master key (default $BERTH_SECRETS_KEY, else `$BERTH_DATA_DIR/secrets.key`). */
  secrets?: MasterKeyOptions;
}

export interface ControlPlaneParts {
  model: ReadModel;
  services: ApiServices;
  store: EventStore;
  follower: LogFollower;
  /** Calls `listener` after each event is folded into the read model, in log order; returns an unsubscribe. */
  onFolded(listener: FoldListener): () => void;
}

export type FoldListener = (m: { seq: number; subject: string; data: Uint8Array }) => void;

export interface ControlPlane extends ControlPlaneParts {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Heartbeat keys live this long without refresh before NATS drops them (long-gone agents). */
const HEARTBEAT_BUCKET_TTL_MS = 24 * 3600_000;
const SWEEP_INTERVAL_MS = 1_000;

/**
 * Starts the control plane: makes sure the streams and buckets exist, folds the whole log into the
 * read model BEFORE serving (so no request sees a partial state), then serves the ECS API, consumes
 * agent observations, executes intents, and watches heartbeats.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log;
  const clock = opts.clock ?? Date.now;
  const account = opts.account ?? "000000000000";
  const { nc } = opts;
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const asked = opts.replicas ?? 1;
  const replicas = await ensureStreams(jsm, { replicas: asked });
  if (replicas > asked)
    log.warn(
      { replicas, asked },
      `the streams keep their ${replicas} replicas: this server asked for ${asked} (--replicas, BERTH_REPLICAS); a server never lowers them`,
    );
  const kvm = new Kvm(nc);
  // Several control planes may start at once: each bucket's creation is looked at again if raced.
  const bucket = (name: string, options: Partial<KvOptions>): Promise<KV> =>
    whileStartingTogether(`bucket ${name}`, () => kvm.create(name, { replicas, ...options }));
  const heartbeats = await bucket(buckets.heartbeats, { history: 1, ttl: HEARTBEAT_BUCKET_TTL_MS });
  const checkpoints = await bucket(buckets.checkpoints, { history: 1 });
  const leaseTtlMs = opts.leaseTtlMs ?? 6_000;
  const leases = await bucket(buckets.leases, { history: 1, ttl: leaseTtlMs });
  const snapshotStore = new SnapshotStore(
    await bucket(buckets.snapshots, { history: 1 }),
    log.child({ component: "snapshots" }),
  );
  let snapshotter: Snapshotter | undefined;
  const secretsKey = masterKey(opts.secrets); // a malformed $BERTH_SECRETS_KEY stops the start here
  const secretsKv = await bucket(buckets.secrets, { history: 1 });

  const model = new ReadModel(log.child({ component: "read-model" }));
  let reactor: Reactor | undefined;
  let scheduler: Scheduler | undefined;
  let lease: Lease | undefined;
  const leading = () => lease?.held() ?? false;
  const metrics = new Metrics({ model, seq: () => follower.seq, leading });
  const store = new MeasuredEventStore(metrics, opts.nc, js, jsm, log.child({ component: "store" }));
  const ecsEvents = new EcsEventPublisher({
    nc,
    model,
    account,
    leading,
    log: log.child({ component: "ecs-events" }),
    published: metrics.ecsEventPublished,
  });
  const foldListeners = new Set<FoldListener>();
  const follower = new LogFollower(nc, log.child({ component: "follower" }), (m) => {
    const emitEcsEvents = ecsEvents.capture(m.seq, m.subject);
    const intents = model.apply(m.seq, m.subject, m.data);
    if (intents.length) reactor?.enqueue(intents);
    snapshotter?.folded(m.seq);
    scheduler?.notify(m.subject, model.lastEnvelope?.id ?? model.lastEventId(m.subject), model.lastEnvelope?.data.type);
    if (model.lastEnvelope) emitEcsEvents?.(model.lastEnvelope);
    for (const listener of foldListeners) listener(m);
  });
  const bus = new CommandBus(store, follower, log.child({ component: "commands" }), "berth://control-plane");
  const ids = opts.ids ?? randomIds;
  const gateway = new AgentGateway({
    nc,
    publisher: store.publisher,
    model,
    bus,
    log: log.child({ component: "agents" }),
    account,
    clock,
    ids,
  });
  reactor = new Reactor(model, gateway, checkpoints, log.child({ component: "reactor" }), clock);
  await reactor.init();

  const replayStarted = performance.now();
  // A snapshot (taken with every intent up to it executed) shortens the replay to the events after it.
  const restored = await snapshotStore.load(model);
  const from = restored?.seq ?? 0;
  if (restored) reactor.raiseCheckpoint(from);
  const head = await store.head();
  await follower.start(from + 1);
  await follower.waitFor(head, 600_000);
  log.info(
    {
      events: head - from,
      snapshot: restored ? { seq: from, bytes: restored.bytes } : null,
      ms: Math.round(performance.now() - replayStarted),
    },
    "read model rebuilt from the log",
  );
  tuneHeapForServing({ growthPercent: opts.heapGrowthPercent });
  snapshotter = new Snapshotter({
    model,
    store: snapshotStore,
    follower,
    intentsDone: () => reactor?.idle() ?? false,
    leading,
    log: log.child({ component: "snapshots" }),
    clock,
  });
  snapshotter.loaded(from);
  snapshotter.caughtUp(head - from);
  ecsEvents.goLive(head);

  // Heartbeats: the watch delivers every current value first, then updates (and recovers from a
  // NATS failover by itself; a heartbeat may then come twice).
  const lastBeat = new Map<string, number>();
  const watch = await followBucket(
    heartbeats,
    jsm,
    async (e) => {
      if (e.operation !== "PUT") return;
      const [region] = e.key.split(".");
      try {
        const value = e.json<{ at: number; instanceId: string }>();
        const before = lastBeat.get(e.key);
        lastBeat.set(e.key, Math.max(before ?? 0, value.at));
        metrics.heartbeat(region as string);
        // Beating now: a later beat than one this process saw before (the first value may be a day old).
        await gateway.heartbeat(region as string, value, before !== undefined && value.at > before);
      } catch (err) {
        log.warn({ err, key: e.key }, "bad heartbeat ignored");
      }
    },
    log.child({ component: "heartbeats" }),
  );
  const timeout = opts.lostAgentTimeoutMs ?? DEFAULT_LOST_AGENT_TIMEOUT_MS;
  const sweep = setInterval(() => {
    if (!lease?.held()) return;
    void gateway
      .sweepLostAgents((region, id) => lastBeat.get(`${region}.${id}`), timeout)
      .catch((err) => log.warn({ err }, "lost-agent sweep failed"));
  }, SWEEP_INTERVAL_MS);

  // Observations: a durable consumer, so facts reported while the control plane was down are folded now.
  await jsm.consumers.add(streams.observations, {
    durable_name: consumers.observations,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30_000_000_000,
    max_ack_pending: 10_000,
  });
  // Consumed again whenever the iteration ends or stalls (a NATS restart or failover), for as long
  // as the control plane runs. Short pulls: a lost pull is noticed after two missed idle
  // heartbeats (`expires` / 2 each), 30 s with the default expiry.
  let observations: ConsumerMessages | undefined;
  let observing = true;
  const observed = (async () => {
    const acks = new EndOfTurn((err) => log.warn({ err }, "observation not acknowledged; it will be redelivered"));
    const olog = log.child({ component: "observations" });
    for (let attempt = 0; observing; attempt++) {
      let received = 0;
      let unwatch = () => {};
      try {
        const messages = await (await js.consumers.get(streams.observations, consumers.observations)).consume({
          max_messages: 1_000,
          expires: 5_000,
        });
        observations = messages;
        if (!observing) break;
        unwatch = watchConsumer({
          jsm,
          stream: streams.observations,
          durable: consumers.observations,
          delivered: () => received,
          onStall: () => void messages.close(),
          log: olog,
        });
        for await (const m of messages) {
          received++;
          attempt = 0;
          void gateway
            .observe(m)
            .then((verdict) =>
              acks.run(() => (verdict === "retry" ? m.nak(1_000) : verdict === "drop" ? m.term() : m.ack())),
            )
            .catch((err) => {
              log.warn({ err, seq: m.seq }, "observation not folded; will be redelivered");
              m.nak(1_000);
            });
        }
      } catch (err) {
        if (observing) olog.warn({ err }, "observation consumer failed; consuming again");
      } finally {
        unwatch();
      }
      if (observing) await new Promise((r) => setTimeout(r, Math.min(2_000, 250 * attempt)));
    }
  })();

  gateway.start();
  const secrets = new SecretStore(secretsKv, secretsKey, clock);
  const secretsSub = serveAgentSecrets({
    nc,
    model,
    store: secrets,
    catchUp: async () => follower.waitFor(await store.head()),
    log: log.child({ component: "secrets" }),
  });

  const services: ApiServices = {
    model,
    bus,
    clock,
    ids,
    account,
    log,
    placementLock: new KeyedQueue(),
    onPlacement: metrics.observePlacement,
  };
  const onFolded = (listener: FoldListener) => {
    foldListeners.add(listener);
    return () => void foldListeners.delete(listener);
  };
  const parts: ControlPlaneParts = { model, services, store, follower, onFolded };

  // One scheduler per region set: the lease holder reconciles services; the others serve the API.
  const holder = `${process.pid}-${ids.hex32().slice(0, 8)}`;
  scheduler = new Scheduler(services, log.child({ component: "scheduler" }), {
    ...(opts.noHealthCheckWaitMs !== undefined ? { noHealthCheckWaitMs: opts.noHealthCheckWaitMs } : {}),
  });
  lease = new Lease(
    leases,
    "scheduler",
    holder,
    leaseTtlMs,
    log.child({ component: "lease" }),
    (leader) => {
      if (leader) scheduler?.wakeAll();
    },
    clock,
  );
  scheduler.start(() => lease?.held() ?? false);
  lease.start();
  const health: HttpRoute = {
    method: "GET",
    path: "/health",
    handle: (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", seq: follower.seq }));
    },
  };
  const server = createApiServer({
    services,
    handlers: opts.handlers ?? ecsHandlers,
    defaultRegion: opts.defaultRegion ?? "us-east-1",
    log: log.child({ component: "api" }),
    routes: [
      health,
      metrics.route(log),
      logsRoute({
        nc,
        services,
        defaultRegion: opts.defaultRegion ?? "us-east-1",
        log: log.child({ component: "logs" }),
        auth: opts.auth,
      }),
      ...consoleRoutes(parts, log.child({ component: "console" }), opts.auth),
      ...secretsRoutes({
        store: secrets,
        services,
        log: log.child({ component: "secrets" }),
        ...(opts.auth ? { auth: opts.auth } : {}),
      }),
      ...(opts.routes?.(parts) ?? []),
    ],
    observe: metrics.observeRequest,
    ...(opts.auth ? { auth: opts.auth } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8417, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  log.info({ url }, "ECS API listening");

  return {
    ...parts,
    url,
    port,
    async stop() {
      clearInterval(sweep);
      scheduler?.stop();
      await lease?.stop();
      gateway.stop();
      secretsSub.unsubscribe();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      observing = false;
      await observations?.close().catch(() => {});
      await observed;
      await watch.stop();
      await snapshotter?.stop();
      await reactor?.stop();
      await follower.stop();
      store.close();
    },
  };
}
