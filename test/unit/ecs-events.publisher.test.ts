import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { describe, expect, test } from "vitest";
import type { ContainerObserved } from "../../events/agent.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { TaskCreated, TaskEvent } from "../../events/task.events.ts";
import {
  decideTask,
  evolveTask,
  initialTask,
  type TaskCommand,
  type TaskSnapshot,
} from "../../machines/task/task.decide.ts";
import { EcsEventPublisher, ecsEventsFor } from "../../services/control-plane/ecs-events.ts";
import { type Agg, aggregate, ReadModel } from "../../services/control-plane/read-model.ts";

/**
 * The ECS event publisher as the control plane drives it: each log event folded by the read
 * model, captured before and emitted after. For every step of several task lives it publishes
 * one ECS Task State Change per version the task moves to, nothing for a step that changes no
 * version, and nothing for what it folded before going live or while another process leads.
 */

const ACCOUNT = "000000000000";
const REGION = "us-east-1";
const ID = "0123456789abcdef0123456789abcdef";
const ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/c1/${ID}`;
const SUBJECT = `berth.evt.${REGION}.task.c1.${ID}`;

function created(
  o: { networkMode?: "bridge" | "awsvpc"; launchType?: "EC2" | "FARGATE"; extra?: Partial<TaskCreated> } = {},
): TaskCreated {
  const networkMode = o.networkMode ?? "bridge";
  return {
    type: "TaskCreated",
    at: 1_700_000_000_123,
    taskArn: ARN,
    containerInstanceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/c1/ffffffffffffffffffffffffffffffff`,
    instanceId: "ffffffffffffffffffffffffffffffff",
    availabilityZone: "us-east-1b",
    group: "service:web",
    startedBy: "ecs-svc/123",
    overrides: { containerOverrides: [{ name: "app", command: ["sh", "-c", 'echo "quoted" \\ done'] }], cpu: "256" },
    tags: [{ key: "team", value: "a" }],
    enableExecuteCommand: false,
    reservation: { cpu: 128, memory: 64, ports: [8080], portsUdp: [] },
    containers: [
      { name: "app", containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/c1/${ID}/1` },
      { name: "side", containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/c1/${ID}/2` },
    ],
    spec: {
      taskArn: ARN,
      taskId: ID,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c1`,
      cluster: "c1",
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:3`,
      family: "web",
      revision: 3,
      launchType: o.launchType ?? "EC2",
      networkMode,
      volumes: [],
      containers: [
        { name: "app", image: "busybox", memory: 32, memoryReservation: 16, cpu: 64, essential: true },
        { name: "side", image: "busybox:1.36", essential: false },
      ],
    },
    initialStatus: networkMode === "awsvpc" ? "PROVISIONING" : "PENDING",
    ...o.extra,
  };
}

const observe = (
  at: number,
  containerName: string,
  status: ContainerObserved["status"],
  extra: Partial<ContainerObserved> = {},
): TaskCommand => ({
  type: "ObserveContainer",
  at,
  observation: {
    type: "ContainerObserved",
    at,
    instanceId: "ffffffffffffffffffffffffffffffff",
    taskArn: ARN,
    containerName,
    status,
    ...extra,
  },
});

/** Each event of the life with the task before and after it, as the publisher sees them. */
function* life(
  first: TaskCreated,
  commands: TaskCommand[],
): Generator<{ env: Envelope; before?: Agg<TaskSnapshot>; after: Agg<TaskSnapshot> }> {
  let agg: Agg<TaskSnapshot> | undefined;
  let version = 0;
  const step = function* (e: TaskEvent) {
    version++;
    const env = {
      specversion: "1.0",
      id: `${SUBJECT}:${version}:abcdef0123456789`,
      source: "berth://test",
      type: e.type,
      subject: ARN,
      time: new Date(e.at).toISOString(),
      datacontenttype: "application/json",
      dataversion: 1,
      aggregateversion: version,
      data: e,
    } as unknown as Envelope;
    const before = agg;
    agg = aggregate(SUBJECT, REGION, evolveTask(before?.snapshot ?? initialTask(), e).snapshot, version, version, env.id);
    yield { env, ...(before ? { before } : {}), after: agg };
  };
  yield* step(first);
  for (const c of commands) {
    const d = decideTask(c, agg?.snapshot ?? initialTask());
    if (!d.ok) throw new Error(d.rejection.message);
    for (const e of d.events) yield* step(e);
  }
}

const lives: [string, TaskCreated, TaskCommand[]][] = [
  [
    "a bridge task that runs, is stopped and exits",
    created(),
    [
      observe(1_700_000_001_000, "app", "RUNNING", {
        runtimeId: "c0ffee",
        networkBindings: [{ bindIP: "0.0.0.0", containerPort: 80, hostPort: 8080, protocol: "tcp" }],
      }),
      observe(1_700_000_001_500, "side", "RUNNING", { runtimeId: "beef" }),
      // Tags are no state change: no version, no event.
      { type: "TagTask", at: 1_700_000_001_800, tags: [{ key: "stage", value: "b" }] },
      { type: "StopTask", at: 1_700_000_002_000, stopCode: "UserInitiated", reason: 'Stopped by "ops"' },
      observe(1_700_000_003_000, "side", "STOPPED", { exitCode: 137 }),
      observe(1_700_000_003_100, "app", "STOPPED", { exitCode: 0, reason: "done" }),
    ],
  ],
  [
    "an awsvpc Fargate task with an attachment whose essential container fails",
    created({
      networkMode: "awsvpc",
      launchType: "FARGATE",
      extra: { capacityProviderName: "FARGATE", platformVersion: "1.4.0" },
    }),
    [
      {
        type: "ObserveAttachment",
        at: 1_700_000_000_500,
        attachments: [
          {
            id: "eni-1",
            type: "ElasticNetworkInterface",
            status: "ATTACHED",
            details: [{ name: "privateIPv4Address", value: "10.0.0.5" }],
          },
        ],
      },
      observe(1_700_000_001_000, "app", "RUNNING", { runtimeId: "c0ffee", healthStatus: "HEALTHY" }),
      observe(1_700_000_004_000, "app", "STOPPED", { exitCode: 3 }),
    ],
  ],
];

const silent = pino({ level: "silent" });

/** A read model and a publisher on a connection that records what is published. */
function publisher(o: { leading?: boolean } = {}) {
  const model = new ReadModel(silent);
  const sent: { to: string; event: Record<string, unknown> & { detail: Record<string, unknown> } }[] = [];
  const nc = { publish: (to: string, payload: string) => sent.push({ to, event: JSON.parse(payload) }) } as unknown as NatsConnection;
  const p = new EcsEventPublisher({ nc, model, account: ACCOUNT, log: silent, leading: () => o.leading ?? true });
  let seq = 0;
  /** Folds one log event and emits its ECS events, as the control plane's follower does. */
  const fold = (env: Envelope) => {
    seq++;
    const emit = p.capture(seq, SUBJECT);
    model.apply(seq, SUBJECT, new TextEncoder().encode(JSON.stringify(env)));
    if (model.lastEnvelope) emit?.(model.lastEnvelope);
    return model.tasks.get(SUBJECT) as Agg<TaskSnapshot>;
  };
  return { sent, publisher: p, fold };
}

/** The publisher's sends leave at the end of the turn. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("ECS task state change events", () => {
  for (const [name, first, commands] of lives) {
    test(name, async () => {
      const { sent, publisher: p, fold } = publisher();
      p.goLive(0);
      const expected: unknown[] = [];
      const versions: number[] = [];
      for (const { env, before, after } of life(first, commands)) {
        const folded = fold(env);
        expect(folded.snapshot.context.version).toBe(after.snapshot.context.version);
        const [e, ...more] = ecsEventsFor({} as ReadModel, ACCOUNT, SUBJECT, env, before, after);
        expect(more).toEqual([]);
        if (after.snapshot.context.version === before?.snapshot.context.version) expect(e).toBeUndefined();
        if (!e) continue;
        expected.push(JSON.parse(JSON.stringify(e)));
        versions.push(folded.snapshot.context.version);
        expect(e.detail.lastStatus).toBe(folded.snapshot.value);
      }
      await endOfTurn();
      expect(versions.length).toBeGreaterThan(3);
      expect(sent.map((m) => m.to)).toEqual(versions.map(() => `berth.ecs.${REGION}.task-state-change`));
      expect(sent.map((m) => m.event)).toEqual(expected);
      expect(sent.map((m) => m.event.detail.version)).toEqual(versions);
      expect(new Set(sent.map((m) => m.event.id)).size).toBe(sent.length);
      for (const { event } of sent) {
        expect(event["detail-type"]).toBe("ECS Task State Change");
        expect(event.resources).toEqual([ARN]);
        expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
    });
  }

  test("nothing for what was folded before going live, nor while another control plane leads", async () => {
    const [, first, commands] = lives[0] as (typeof lives)[number];
    const replay = publisher();
    const steps = [...life(first, commands)];
    replay.publisher.goLive(2);
    for (const { env } of steps) replay.fold(env);
    const follower = publisher({ leading: false });
    follower.publisher.goLive(0);
    for (const { env } of steps) follower.fold(env);
    await endOfTurn();
    expect(follower.sent).toEqual([]);
    const live = steps.slice(2).filter(({ before, after }) => after.snapshot.context.version !== before?.snapshot.context.version);
    expect(replay.sent.map((m) => m.event.detail.version)).toEqual(live.map(({ after }) => after.snapshot.context.version));
  });
});
