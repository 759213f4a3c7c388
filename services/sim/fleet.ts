import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { Directive, type Observation, RegisterReply } from "../../events/agent.ts";
import { buckets, consumers, streams, subjects } from "../../events/names.ts";
import { seededRandom } from "../../machines/placement/rankers.ts";
import { observationMsgId } from "../agent/observation.ts";
import { registerRequest } from "../agent/registration.ts";
import { Aborted, retry } from "../agent/retry.ts";
import { EndOfTurn } from "../store/end-of-turn.ts";
import { JetStreamPublisher } from "../store/js-publisher.ts";
import { messageJson } from "../store/message-json.ts";
import { FleetHeartbeats } from "./heartbeats.ts";
import { HollowInstance, type HollowTask } from "./hollow.ts";

export interface FleetOptions {
  nc: NatsConnection;
  log: Logger;
  region: string;
  cluster: string;
  /** How many hollow instances to register. */
  instances: number;
  /** Mean time from StartTask to RUNNING, ms; each start takes 0.5–1.5× this (seeded). Default 0. */
  startLatencyMs?: number;
  /** Probability that a start fails (every container STOPPED, CannotStartContainerError). Default 0. */
  failureRate?: number;
  /** Custom attributes on every instance. */
  attributes?: Record<string, string>;
  /** Launch types every instance offers, as a real agent's (`berth agent --fargate`: EC2 and FARGATE). Default EC2. */
  capacity?: ("EC2" | "FARGATE")[];
  /** Instances are spread round-robin over this many availability zones (<region>a, b, …). Default 3. */
  azCount?: number;
  /** CPU units (1024 per vCPU) and MiB of memory per instance. Default 2048 and 8192. */
  cpu?: number;
  memory?: number;
  /** Heartbeat interval, ms (a real agent's default is 5000). */
  heartbeatIntervalMs?: number;
  /** Seeds start latency and failures, so a run can be repeated. */
  seed?: number;
  /** Registrations in flight at once. Default 64. */
  registerConcurrency?: number;
  /**
   * Stops the registration (Ctrl-C before the fleet is up): startFleet then removes its consumer
   * and rejects with FleetStopped.
   */
  signal?: AbortSignal;
  clock?: () => number;
}

/** The fleet was stopped while registering; `registered` instances were registered by then (they stay). */
export class FleetStopped extends Error {
  constructor(readonly registered: number) {
    super(`stopped while registering, after ${registered} instances`);
  }
}

export interface FleetStats {
  instances: number;
  /** Directives received, discarded ones included. */
  directives: number;
  /** Directives for instances of an earlier run, or unreadable: terminated, not acted on. */
  discarded: number;
  /** Tasks whose start was simulated to completion (RUNNING or failed). */
  started: number;
  failed: number;
  stopped: number;
  running: number;
  /** Observations stored in BERTH_OBSERVATIONS. */
  observations: number;
}

export interface Fleet {
  readonly instances: readonly HollowInstance[];
  stats(): FleetStats;
  /** Simulates the task's containers exiting with `exitCode` (a crash). False when no instance runs it. */
  exit(taskArn: string, exitCode?: number): Promise<boolean>;
  /** Stops heartbeats and the directive consumer (and removes the consumer); instances stay registered. */
  stop(): Promise<void>;
}

const MIB = 1024 * 1024;
/** Availability zones are named <region>a to <region>z. */
export const MAX_ZONES = 26;
const NS_PER_MS = 1_000_000;
/** Directives accepted but not yet acknowledged; a large fleet starts many tasks at once. */
const MAX_ACK_PENDING = 20_000;
/** Stopped tasks are forgotten after this long (a StopTask repeat after that is answered as for an unknown task). */
const FORGET_STOPPED_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 60_000;
/** JetStream API error: a work-queue stream allows one consumer per subject. */
const OVERLAPPING_CONSUMER = 10100;

/**
 * A simulated fleet: many hollow container instances in one process that speak the real agent
 * protocol (events/agent.ts) to a real control plane, so placement and the scheduler can be tried
 * on 10,000 instances from one machine.
 *
 *   register   request/reply on berth.ctl.<r>.register, one per instance (bounded concurrency)
 *   heartbeats one loop puts every instance's KV heartbeat, spread over the interval
 *   directives ONE durable consumer over berth.dir.<r>.> for the whole fleet, dispatched by the
 *              subject's instance token (a consumer per instance is too many at 10,000)
 *   observations published to berth.obs.<r>.<instanceId> with the real agent's msgIDs
 *
 * Because the consumer takes every directive of the region, a fleet needs a region in which no
 * real agent runs (JetStream refuses the overlapping consumer; the error says so).
 */
export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const clock = o.clock ?? Date.now;
  const bootAt = clock();
  const log = o.log.child({ component: "sim", cluster: o.cluster, region: o.region });
  const controller = new AbortController();
  const { signal } = controller;
  const js = jetstream(o.nc);
  const jsm = await jetstreamManager(o.nc);
  const random = seededRandom(o.seed ?? 1);
  const latency = o.startLatencyMs ?? 0;
  const failureRate = o.failureRate ?? 0;
  const azCount = Math.max(1, Math.min(MAX_ZONES, o.azCount ?? 3));
  const byId = new Map<string, HollowInstance>();
  const instances: HollowInstance[] = [];
  const stats: FleetStats = { instances: 0, directives: 0, discarded: 0, started: 0, failed: 0, stopped: 0, running: 0, observations: 0 };
  const timers = new Set<NodeJS.Timeout>();

  // Directives first: the consumer must exist before the first task can be placed on an instance.
  const durable = consumers.simDirectives(o.region, randomUUID().slice(0, 8));
  await removeAbandonedFleetConsumers(jsm, o.region, log);
  try {
    await jsm.consumers.add(streams.directives, {
      durable_name: durable,
      filter_subject: subjects.directivesOfRegion(o.region),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * NS_PER_MS,
      max_ack_pending: MAX_ACK_PENDING,
    });
  } catch (err) {
    if ((err as { code?: number }).code === OVERLAPPING_CONSUMER || /not unique/i.test((err as Error).message))
      throw busyRegion(o.region);
    throw err;
  }

  // Observations leave in one socket write per turn of the event loop, in order, each acked.
  const publisher = new JetStreamPublisher(o.nc);
  // Directive acks likewise leave together at the end of the turn.
  const acks = new EndOfTurn((err) => log.warn({ err }, "directive not acknowledged; it will be redelivered"));
  const publish = (instanceId: string, obs: Observation): Promise<void> =>
    retry(
      async () => {
        const subject = subjects.observations(o.region, instanceId);
        const data = JSON.stringify(obs);
        await publisher.publish(subject, data, { msgID: observationMsgId(obs), timeoutMs: 10_000 });
        stats.observations++;
      },
      { signal, onError: (err, attempt) => log.warn({ err, attempt, instanceId }, "observation not stored yet; retrying") },
    );
  const publishAll = async (instanceId: string, list: Observation[]) => {
    for (const obs of list) await publish(instanceId, obs);
  };

  const finishStart = (inst: HollowInstance, task: HollowTask) => {
    const fail = failureRate > 0 && random() < failureRate;
    const facts = inst.complete(task, clock(), fail);
    if (facts.length === 0) return;
    stats.started++;
    if (fail) stats.failed++;
    else stats.running++;
    void publishAll(inst.instanceId, facts).catch(ignoreAbort(log));
  };

  const onDirective = async (m: JsMsg) => {
    stats.directives++;
    const inst = byId.get(m.subject.split(".")[3] ?? "");
    const parsed = Directive.safeParse(messageJson(m));
    if (!inst || !parsed.success) {
      // Left over from an earlier simulation (instances are new every run) or not a directive.
      stats.discarded++;
      acks.run(() => m.term());
      return;
    }
    const d = parsed.data;
    if (d.type === "StartTask") {
      const { task, fresh } = inst.accept(d.spec);
      acks.run(() => m.ack());
      if (!fresh) {
        await publishAll(inst.instanceId, inst.facts(task, clock()).filter((f) => f.type !== "ContainerObserved" || f.status !== "PENDING"));
        return;
      }
      if (latency <= 0) return finishStart(inst, task);
      const t = setTimeout(
        () => {
          timers.delete(t);
          finishStart(inst, task);
        },
        Math.round(latency * (0.5 + random())),
      );
      timers.add(t);
      return;
    }
    if (d.type === "Deregistered") {
      // As a real agent does: what the instance still runs stops, and it leaves the fleet (its
      // heartbeats end with it).
      byId.delete(inst.instanceId);
      instances.splice(instances.indexOf(inst), 1);
      const live = [...inst.tasks.values()].filter((t) => t.containers.some((c) => c.status !== "STOPPED"));
      for (const t of live) await stopTask(inst, t.taskArn, []);
    } else await stopTask(inst, d.taskArn, d.containers ?? []);
    acks.run(() => m.ack());
  };
  const stopTask = async (inst: HollowInstance, taskArn: string, containers: readonly string[]) => {
    const wasRunning = inst.tasks.get(taskArn)?.containers.some((c) => c.status === "RUNNING") ?? false;
    const facts = inst.stop(taskArn, containers, clock());
    if (wasRunning) stats.running--;
    stats.stopped++;
    await publishAll(inst.instanceId, facts);
  };

  const consumer = await js.consumers.get(streams.directives, durable);
  const messages = await consumer.consume({ max_messages: 2_000 });
  const consuming = (async () => {
    for await (const m of messages) {
      void onDirective(m).catch((err) => {
        if (err instanceof Aborted) return;
        log.warn({ err, subject: m.subject }, "directive not handled; redelivered later");
        m.nak(1_000);
      });
    }
  })();

  // Register every instance, a bounded number at a time.
  const resources = { cpu: o.cpu ?? 2048, memory: o.memory ?? 8192 };
  const started = performance.now();
  let next = 0;
  const registerOne = async (i: number) => {
    const instanceId = randomUUID().replaceAll("-", "");
    const az = `${o.region}${String.fromCharCode(97 + (i % azCount))}`;
    const req = {
      ...registerRequest({
        cluster: o.cluster,
        instanceId,
        info: {
          ncpu: resources.cpu / 1024,
          memTotalBytes: resources.memory * MIB,
          architecture: "x86_64",
          osType: "linux",
          logDrivers: ["json-file"],
          cgroupDriver: "systemd",
          cgroupVersion: "2",
          name: `sim-${i}`,
        },
        version: { version: "simulated", apiVersion: "1.41", minApiVersion: "1.12" },
        availabilityZone: az,
        attributes: o.attributes,
        capacity: o.capacity,
      }),
      hostname: `sim-${i}.${o.cluster}`,
    };
    const reply = await retry(
      async () => {
        const m = await o.nc.request(subjects.register(o.region, instanceId), JSON.stringify(req), { timeout: 30_000 });
        const r = RegisterReply.parse(m.json());
        if (!r.ok) throw new RegistrationRefused(`${r.code}: ${r.message}`);
        return r;
      },
      {
        signal,
        retriable: (err) => !(err instanceof RegistrationRefused),
        onError: (err, attempt) => log.warn({ err, attempt, instance: i }, "registration not answered; retrying"),
      },
    );
    const inst = new HollowInstance(reply.instanceId, reply.containerInstanceArn);
    byId.set(inst.instanceId, inst);
    instances.push(inst);
    stats.instances++;
  };
  const stopRegistering = () => controller.abort();
  o.signal?.addEventListener("abort", stopRegistering, { once: true });
  if (o.signal?.aborted) stopRegistering();
  try {
    await Promise.all(
      Array.from({ length: Math.min(o.registerConcurrency ?? 64, o.instances) }, async () => {
        while (next < o.instances && !signal.aborted) await registerOne(next++);
      }),
    );
    if (signal.aborted) throw new FleetStopped(instances.length);
  } catch (err) {
    controller.abort();
    await messages.close().catch(() => {});
    await jsm.consumers.delete(streams.directives, durable).catch(() => {});
    throw o.signal?.aborted ? new FleetStopped(instances.length) : err;
  } finally {
    o.signal?.removeEventListener("abort", stopRegistering);
  }
  log.info({ instances: instances.length, ms: Math.round(performance.now() - started) }, "hollow instances registered");

  const kv = await new Kvm(js).open(buckets.heartbeats);
  const heartbeats = new FleetHeartbeats(
    kv,
    { region: o.region, cluster: o.cluster, intervalMs: o.heartbeatIntervalMs ?? 5_000, bootAt, clock, log },
    () => instances,
  );
  await heartbeats.beatAll();
  heartbeats.start();

  const prune = setInterval(() => {
    const before = clock() - FORGET_STOPPED_MS;
    for (const inst of instances) inst.prune(before);
  }, PRUNE_EVERY_MS);
  prune.unref();

  return {
    instances,
    stats: () => ({ ...stats }),
    async exit(taskArn, exitCode = 1) {
      for (const inst of instances) {
        if (!inst.tasks.has(taskArn)) continue;
        const facts = inst.exit(taskArn, exitCode, clock());
        if (facts.length === 0) return false;
        stats.running--;
        await publishAll(inst.instanceId, facts);
        return true;
      }
      return false;
    },
    async stop() {
      clearInterval(prune);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await heartbeats.stop();
      controller.abort();
      await messages.close().catch(() => {});
      await consuming.catch(() => {});
      // The next simulation in this region creates it again; a real agent may want the region later.
      await jsm.consumers.delete(streams.directives, durable).catch(() => {});
      publisher.close();
    },
  };
}

class RegistrationRefused extends Error {}

const busyRegion = (region: string) =>
  new Error(
    `directives of region ${region} are already consumed by a real agent or another simulation; run the simulator in a region of its own (--region)`,
  );

/** How often, and how far apart, a fleet consumer is looked at before it is judged abandoned. */
const ABANDONED_CHECKS = 3;
const ABANDONED_CHECK_GAP_MS = 400;

/**
 * Removes the region's fleet consumers that nothing pulls from: left by a simulation that ended
 * without removing its own (killed, or its process lost). A running fleet always has a pull
 * request waiting, so a consumer seen with one is another simulation at work: refused.
 */
async function removeAbandonedFleetConsumers(jsm: JetStreamManager, region: string, log: Logger) {
  const filter = subjects.directivesOfRegion(region);
  const candidates: string[] = [];
  for await (const info of jsm.consumers.list(streams.directives))
    if (info.name.startsWith("sim-") && info.config.filter_subject === filter) candidates.push(info.name);
  for (const name of candidates) {
    for (let check = 0; check < ABANDONED_CHECKS; check++) {
      if (check > 0) await delay(ABANDONED_CHECK_GAP_MS);
      const info = await jsm.consumers.info(streams.directives, name).catch(() => undefined);
      if (!info) break;
      if (info.num_waiting > 0) throw busyRegion(region);
    }
    await jsm.consumers.delete(streams.directives, name).catch(() => {});
    log.info({ consumer: name }, "removed the directive consumer of an earlier simulation that had ended");
  }
}

const ignoreAbort = (log: Logger) => (err: unknown) => {
  if (!(err instanceof Aborted)) log.warn({ err }, "observations not published");
};
