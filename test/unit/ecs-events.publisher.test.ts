import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { describe, expect, test } from "vitest";
import type { ContainerObserved } from "../../events/agent.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { TaskCreated, TaskEvent } from "../../events/task.events.ts";
import type { InstanceSnapshot } from "../../machines/instance/instance.decide.ts";
import type { InstanceContext } from "../../machines/instance/instance.machine.ts";
import {
  decideTask,
  evolveTask,
  initialTask,
  type TaskCommand,
  type TaskSnapshot,
} from "../../machines/task/task.decide.ts";
import { instanceTaskCounts } from "../../services/api/handlers/instances.ts";
import { JsonText } from "../../services/api/raw-json.ts";
import { instanceVersion, renderInstance } from "../../services/api/render.ts";
import {
  type EcsEvent,
  EcsEventPublisher,
  ecsEventsFor,
  ecsEventText,
} from "../../services/control-plane/ecs-events.ts";
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
  const fold = (env: Envelope, subject = SUBJECT) => {
    seq++;
    const emit = p.capture(seq, subject);
    model.apply(seq, subject, new TextEncoder().encode(JSON.stringify(env)));
    if (model.lastEnvelope) emit?.(model.lastEnvelope);
    return model.tasks.get(SUBJECT) as Agg<TaskSnapshot>;
  };
  return { sent, publisher: p, fold, model };
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
        const [e, ...more] = ecsEventsFor(new ReadModel(silent), ACCOUNT, SUBJECT, env, before, after);
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

describe("the instance a task is placed on", () => {
  const INSTANCE_ID = "ffffffffffffffffffffffffffffffff";
  const INSTANCE_SUBJECT = `berth.evt.${REGION}.instance.c1.${INSTANCE_ID}`;
  const INSTANCE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/c1/${INSTANCE_ID}`;
  const registered = {
    specversion: "1.0",
    id: `${INSTANCE_SUBJECT}:1:0123456789abcd`,
    source: "berth://test",
    type: "InstanceRegistered",
    subject: INSTANCE_ARN,
    time: new Date(1_699_999_999_000).toISOString(),
    datacontenttype: "application/json",
    data: {
      type: "InstanceRegistered",
      at: 1_699_999_999_000,
      containerInstanceArn: INSTANCE_ARN,
      instanceId: INSTANCE_ID,
      cluster: "c1",
      hostname: "host-1",
      registeredResources: [
        { name: "CPU", type: "INTEGER", integerValue: 2048 },
        { name: "MEMORY", type: "INTEGER", integerValue: 4096 },
      ],
      attributes: [],
      versionInfo: { agentVersion: "1.0.0" },
      capacity: { cpu: 2048, memory: 4096 },
      tags: [],
    },
  } as unknown as Envelope;
  const cpuLeft = (e: { detail: Record<string, unknown> }) =>
    (e.detail.remainingResources as { name: string; integerValue?: number }[]).find((r) => r.name === "CPU")?.integerValue;

  test("moves its version when the task is placed and when it stops, as ECS counts them, and sends its state change after the task's", async () => {
    const [, first, commands] = lives[0] as (typeof lives)[number];
    const { sent, publisher: p, fold, model } = publisher();
    p.goLive(0);
    fold(registered, INSTANCE_SUBJECT);
    const envs: Envelope[] = [];
    for (const { env } of life(first, commands)) {
      envs.push(env);
      fold(env);
    }
    await endOfTurn();
    const instanceEvents = sent.filter((m) => m.event["detail-type"] === "ECS Container Instance State Change");
    // Registered (1), the task placed (2), the task stopped (3); nothing for the steps between.
    expect(instanceEvents.map((m) => m.event.detail.version)).toEqual([1, 2, 3]);
    expect(instanceEvents.map(({ event }) => cpuLeft(event))).toEqual([2048, 2048 - 128, 2048]);
    expect(instanceEvents.map((m) => m.to)).toEqual(instanceEvents.map(() => `berth.ecs.${REGION}.container-instance-state-change`));
    expect(instanceEvents.every((m) => (m.event.resources as string[])[0] === INSTANCE_ARN)).toBe(true);
    // Each comes right after the task event of the same log event, with its own id.
    const placed = sent.findIndex((m) => m.event.detail.version === 2 && m.event["detail-type"] === "ECS Container Instance State Change");
    expect(sent[placed - 1]?.event["detail-type"]).toBe("ECS Task State Change");
    expect(sent[placed - 1]?.event.detail.lastStatus).toBe("PENDING");
    expect(new Set(sent.map((m) => m.event.id)).size).toBe(sent.length);
    // The detail is DescribeContainerInstances' instance, with ISO times, its cluster and updatedAt
    // (but for the answer's tags member, which the event does not carry).
    const agg = model.instances.get(INSTANCE_SUBJECT) as Agg<InstanceSnapshot>;
    const { tags: _tags, ...described } = renderInstance(
      agg,
      model.usage.get(INSTANCE_SUBJECT),
      instanceTaskCounts(model, INSTANCE_SUBJECT),
      new Set(),
    );
    expect(instanceEvents.at(-1)?.event.detail).toEqual({
      ...described,
      registeredAt: new Date(1_699_999_999_000).toISOString(),
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c1`,
      updatedAt: expect.any(String),
    });
    // DescribeContainerInstances' version is the same counter, and a replay of the log counts the same.
    const versionIn = (m: ReadModel) =>
      instanceVersion(m.instances.get(INSTANCE_SUBJECT)?.snapshot.context as InstanceContext, m.usage.get(INSTANCE_SUBJECT));
    expect(versionIn(model)).toBe(3);
    const replayed = new ReadModel(silent);
    replayed.apply(1, INSTANCE_SUBJECT, new TextEncoder().encode(JSON.stringify(registered)));
    for (const [i, env] of envs.entries()) replayed.apply(i + 2, SUBJECT, new TextEncoder().encode(JSON.stringify(env)));
    expect(versionIn(replayed)).toBe(3);
    // The instance aggregate is its own events' alone (an append to it is fenced on its position).
    expect(replayed.instances.get(INSTANCE_SUBJECT)?.seq).toBe(1);
    expect(replayed.instances.get(INSTANCE_SUBJECT)?.snapshot.context.version).toBe(1);
  });
});

test("an event whose detail was written ahead as text is published as JSON.stringify writes it", () => {
  const detail = new JsonText('{"containerInstanceArn":"arn:aws:ecs:us-east-1:000000000000:container-instance/c1/x","version":2,"attributes":[{"name":"a"}]}');
  const event: EcsEvent = {
    version: "0",
    id: "7f7b6a14-7f2c-5e1a-9c53-0d1f1d0e9c10",
    "detail-type": "ECS Container Instance State Change",
    source: "aws.ecs",
    account: ACCOUNT,
    time: "2026-01-01T00:00:00Z",
    region: REGION,
    resources: ["arn:aws:ecs:us-east-1:000000000000:container-instance/c1/x"],
    detail,
  };
  expect(ecsEventText(event)).toBe(JSON.stringify(event));
  expect(JSON.parse(ecsEventText(event)).detail.version).toBe(2);
});
