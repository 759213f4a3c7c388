import { randomBytes } from "node:crypto";
import { AckPolicy, type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  type ContainerObserved,
  type DesiredTask,
  type Directive,
  Heartbeat,
  Observation,
  type RegisterReply,
  RegisterRequest,
  type SyncReply,
  SyncRequest,
} from "../../events/agent.ts";
import { arns } from "../../events/arns.ts";
import { buckets, consumers, heartbeatKey, streams, subjects } from "../../events/names.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import type { ContainerDefinition, Volume } from "../../events/taskdef.shapes.ts";
import { ensureStreams } from "../../services/store/topology.ts";
import { TEST_IMAGE } from "./docker.ts";
import { type NatsServerHandle, startNatsServer } from "./nats-server.ts";
import { waitFor } from "./wait.ts";

/**
 * A control-plane stand-in that speaks the real agent protocol (events/agent.ts) against a real
 * nats-server, so the agent is tested on its own: it creates the streams and the heartbeats
 * bucket as the control plane does, answers register and sync, publishes directives into
 * BERTH_DIRECTIVES and collects every observation from BERTH_OBSERVATIONS.
 */
export interface AgentDriver {
  readonly nats: NatsServerHandle;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly heartbeats: KV;
  readonly region: string;
  readonly cluster: string;
  readonly account: string;
  readonly registrations: RegisterRequest[];
  readonly syncs: SyncRequest[];
  /** Every observation stored so far, in stream order. */
  readonly observations: Observation[];
  /** What sync answers for an instance (default: nothing placed). */
  setDesired(instanceId: string, tasks: DesiredTask[]): void;
  /** Publishes a directive with a deterministic msgID (a repeat with the same id is deduplicated by JetStream). */
  direct(instanceId: string, directive: Directive, msgID?: string): Promise<void>;
  startTask(instanceId: string, spec: TaskRuntimeSpec, msgID?: string): Promise<void>;
  stopTask(instanceId: string, spec: TaskRuntimeSpec, reason?: string): Promise<void>;
  containerObservations(taskArn: string, container?: string): ContainerObserved[];
  /** Waits for an observation of one container matching `match`. */
  waitForContainer(
    taskArn: string,
    container: string,
    match: (o: ContainerObserved) => boolean,
    timeoutMs?: number,
  ): Promise<ContainerObserved>;
  lastHeartbeat(instanceId: string): Promise<Heartbeat | undefined>;
  close(): Promise<void>;
}

export async function startAgentDriver(opts: { region?: string; cluster?: string } = {}): Promise<AgentDriver> {
  const region = opts.region ?? "us-east-1";
  const cluster = opts.cluster ?? `t-${randomBytes(4).toString("hex")}`;
  const account = "000000000000";
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  const heartbeats = await new Kvm(js).create(buckets.heartbeats, { history: 1 });

  const registrations: RegisterRequest[] = [];
  const syncs: SyncRequest[] = [];
  const observations: Observation[] = [];
  const desired = new Map<string, DesiredTask[]>();
  const scope = { region, account };

  const subs: Subscription[] = [
    nc.subscribe(subjects.registerAny(region), {
      callback: (_e, m) => {
        const req = RegisterRequest.parse(m.json());
        registrations.push(req);
        const instanceId = req.instanceId ?? randomBytes(16).toString("hex");
        const reply: RegisterReply = {
          ok: true,
          instanceId,
          containerInstanceArn: arns.instance(scope, req.cluster, instanceId),
        };
        m.respond(JSON.stringify(reply));
      },
    }),
    nc.subscribe(subjects.syncAny(region), {
      callback: (_e, m) => {
        const req = SyncRequest.parse(m.json());
        syncs.push(req);
        const reply: SyncReply = { ok: true, tasks: desired.get(req.instanceId) ?? [] };
        m.respond(JSON.stringify(reply));
      },
    }),
  ];

  await jsm.consumers.add(streams.observations, {
    durable_name: consumers.observations,
    ack_policy: AckPolicy.Explicit,
    filter_subject: subjects.allObservations,
  });
  const messages = await (await js.consumers.get(streams.observations, consumers.observations)).consume();
  const collecting = (async () => {
    for await (const m of messages) {
      observations.push(Observation.parse(m.json()));
      m.ack();
    }
  })();

  const containerObservations = (taskArn: string, container?: string) =>
    observations.filter(
      (o): o is ContainerObserved =>
        o.type === "ContainerObserved" &&
        o.taskArn === taskArn &&
        (container === undefined || o.containerName === container),
    );

  const direct = async (instanceId: string, directive: Directive, msgID?: string) => {
    await js.publish(subjects.directives(region, instanceId), JSON.stringify(directive), {
      msgID: msgID ?? `${"taskArn" in directive ? directive.taskArn : directive.containerInstanceArn}:${directive.type}`,
    });
  };

  return {
    nats,
    nc,
    js,
    heartbeats,
    region,
    cluster,
    account,
    registrations,
    syncs,
    observations,
    setDesired: (instanceId, tasks) => desired.set(instanceId, tasks),
    direct,
    startTask: (instanceId, spec, msgID) =>
      direct(instanceId, { type: "StartTask", at: Date.now(), taskArn: spec.taskArn, spec }, msgID),
    stopTask: (instanceId, spec, reason = "Task stopped by user") =>
      direct(instanceId, {
        type: "StopTask",
        at: Date.now(),
        taskArn: spec.taskArn,
        taskId: spec.taskId,
        reason,
        containers: spec.containers.map((c) => c.name),
      }),
    containerObservations,
    async waitForContainer(taskArn, container, match, timeoutMs = 30_000) {
      try {
        return await waitFor(() => containerObservations(taskArn, container).find(match), {
          timeoutMs,
          intervalMs: 50,
          what: `an observation of ${container} in ${taskArn}`,
        });
      } catch (err) {
        const seen = containerObservations(taskArn, container).map((o) => [
          o.status,
          o.exitCode,
          o.healthStatus,
          o.reason,
        ]);
        throw new Error(`${(err as Error).message}; observations of ${container}: ${JSON.stringify(seen)}`);
      }
    },
    async lastHeartbeat(instanceId) {
      const e = await heartbeats.get(heartbeatKey(region, instanceId));
      return e?.value.length ? Heartbeat.parse(e.json()) : undefined;
    },
    async close() {
      for (const s of subs) s.unsubscribe();
      messages.stop();
      await collecting.catch(() => {});
      await nc.close();
      await nats.stop();
    },
  };
}

/** A task spec as the control plane resolves it, for tests. */
export function taskSpec(o: {
  region?: string;
  account?: string;
  cluster: string;
  containers: (Partial<ContainerDefinition> & { name: string })[];
  taskId?: string;
  networkMode?: TaskRuntimeSpec["networkMode"];
  cpu?: string;
  memory?: string;
  volumes?: Volume[];
}): TaskRuntimeSpec {
  const scope = { region: o.region ?? "us-east-1", account: o.account ?? "000000000000" };
  const taskId = o.taskId ?? randomBytes(16).toString("hex");
  return {
    taskArn: arns.task(scope, o.cluster, taskId),
    taskId,
    clusterArn: arns.cluster(scope, o.cluster),
    cluster: o.cluster,
    taskDefinitionArn: arns.taskDefinition(scope, "agent-test", 1),
    family: "agent-test",
    revision: 1,
    launchType: "EC2",
    networkMode: o.networkMode ?? "bridge",
    ...(o.cpu ? { cpu: o.cpu } : {}),
    ...(o.memory ? { memory: o.memory } : {}),
    volumes: o.volumes ?? [],
    containers: o.containers.map((c) => ({ image: TEST_IMAGE, essential: true, ...c })),
  };
}
