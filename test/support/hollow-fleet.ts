import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { type Observation, RegisterReply, type RegisterRequest } from "../../events/agent.ts";
import { buckets, subjects } from "../../events/names.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { consumeDirectives } from "../../services/agent/directives.ts";
import { heartbeatLoop } from "../../services/agent/heartbeat.ts";
import { ObservationPublisher } from "../../services/agent/publisher.ts";
import { Aborted, retry } from "../../services/agent/retry.ts";
import type { StopRequest, TaskRunner } from "../../services/agent/task-runner.ts";
import { ARTIFACTS_DIR } from "./processes.ts";

/**
 * Hollow agents: container instances without Docker. Each speaks the real agent protocol over a
 * real NATS — registers, heartbeats into KV, consumes its directives with the agent's own
 * consumer (services/agent/directives.ts) and publishes observations with the agent's own
 * publisher — but "runs" a task by reporting every container RUNNING, and "stops" it by
 * reporting every container STOPPED (exit code 0). So a control plane can be loaded with
 * thousands of tasks on a machine that could not run thousands of containers, and every part
 * of Berth outside the Docker port is the real one.
 *
 * Like the real agent, everything here retries while NATS is away and resumes by itself.
 */
export interface HollowFleet {
  readonly cluster: string;
  readonly instances: readonly { instanceId: string; containerInstanceArn: string }[];
  /** Task ARNs each instance was told to start (a repeat of a directive counts once). */
  readonly started: ReadonlyMap<string, ReadonlySet<string>>;
  close(): Promise<void>;
}

export interface HollowFleetOptions {
  /** NATS server URL(s). */
  servers: string | string[];
  cluster: string;
  count: number;
  region?: string;
  /** Registered resources of each instance. */
  cpu?: number;
  memoryMiB?: number;
  heartbeatIntervalMs?: number;
}

export async function startHollowFleet(o: HollowFleetOptions): Promise<HollowFleet> {
  const region = o.region ?? "us-east-1";
  // Warnings (a consumer that stalled, an observation not stored yet) go to the test's artifacts.
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const log = pino(
    { level: "warn" },
    pino.destination({ dest: join(ARTIFACTS_DIR, `hollow-fleet-${o.cluster}.log`), sync: true }),
  );
  const controller = new AbortController();
  const { signal } = controller;
  const nc: NatsConnection = await connect({
    servers: o.servers,
    name: `hollow-fleet-${o.cluster}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const instances: { instanceId: string; containerInstanceArn: string }[] = [];
  const started = new Map<string, Set<string>>();
  const loops: Promise<unknown>[] = [];

  const heartbeatBucket = retry(
    async (): Promise<KV> => {
      const kv = await new Kvm(js).open(buckets.heartbeats);
      await kv.status(); // fails until the control plane has created the bucket
      return kv;
    },
    { signal },
  );

  for (let n = 0; n < o.count; n++) {
    const instanceId = randomBytes(16).toString("hex");
    const req: RegisterRequest = {
      cluster: o.cluster,
      instanceId,
      hostname: `hollow-${n}`,
      totalResources: [
        { name: "CPU", type: "INTEGER", integerValue: o.cpu ?? 1024 * 1024 },
        { name: "MEMORY", type: "INTEGER", integerValue: o.memoryMiB ?? 1024 * 1024 },
        { name: "PORTS", type: "STRINGSET", stringSetValue: [] },
        { name: "PORTS_UDP", type: "STRINGSET", stringSetValue: [] },
      ],
      attributes: [
        { name: "ecs.os-type", value: "linux" },
        { name: "ecs.os-family", value: "LINUX" },
        { name: "ecs.cpu-architecture", value: "x86_64" },
      ],
      versionInfo: { agentVersion: "hollow" },
      capacity: ["EC2"],
    };
    const reply = await retry(
      async () => {
        const m = await nc.request(subjects.register(region, instanceId), JSON.stringify(req), { timeout: 5_000 });
        const r = RegisterReply.parse(m.json());
        if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
        return r;
      },
      { signal, maxDelayMs: 1_000 },
    );
    instances.push({ instanceId: reply.instanceId, containerInstanceArn: reply.containerInstanceArn });
    const seen = new Set<string>();
    started.set(reply.instanceId, seen);

    const publisher = new ObservationPublisher(js, region, reply.instanceId, log, signal);
    const report = (taskArn: string, containers: string[], status: "RUNNING" | "STOPPED") =>
      Promise.all(
        containers.map((containerName) => {
          const obs: Observation = {
            type: "ContainerObserved",
            at: Date.now(),
            instanceId: reply.instanceId,
            taskArn,
            containerName,
            status,
            runtimeId: `hollow-${taskArn.split("/").pop()}-${containerName}`,
            ...(status === "STOPPED" ? { exitCode: 0 } : {}),
          };
          return publisher.publish(obs);
        }),
      ).then(() => undefined);
    // Only start and stop are ever called by the directive consumer.
    const runner = {
      start: async (spec: TaskRuntimeSpec) => {
        seen.add(spec.taskArn);
        await report(
          spec.taskArn,
          spec.containers.map((c) => c.name),
          "RUNNING",
        );
      },
      stop: (r: StopRequest) => report(r.taskArn, r.containers ?? [], "STOPPED"),
    } as unknown as TaskRunner;
    loops.push(
      // A hollow instance runs nothing, so its deregistration leaves nothing to stop.
      consumeDirectives({ js, jsm, region, instanceId: reply.instanceId, runner, deregistered: async () => {}, log, signal }),
      heartbeatBucket.then((kv) =>
        heartbeatLoop(
          kv,
          {
            region,
            cluster: o.cluster,
            instanceId: reply.instanceId,
            bootAt: Date.now(),
            intervalMs: o.heartbeatIntervalMs ?? 1_000,
          },
          Date.now,
          log,
          signal,
        ),
      ),
    );
  }

  return {
    cluster: o.cluster,
    instances,
    started,
    async close() {
      controller.abort();
      await Promise.allSettled(loops);
      await heartbeatBucket.catch((err) => {
        if (!(err instanceof Aborted)) throw err;
      });
      await nc.close();
    },
  };
}
