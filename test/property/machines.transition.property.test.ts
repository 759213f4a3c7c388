import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type AnyStateMachine, assign, initialTransition, setup, transition } from "xstate";
import type { ClusterEvent } from "../../events/cluster.events.ts";
import type { InstanceEvent } from "../../events/instance.events.ts";
import type { TaskEvent } from "../../events/task.events.ts";
import type { TaskDefinitionEvent } from "../../events/taskdef.events.ts";
import { accountMachine } from "../../machines/account/account.machine.ts";
import { clusterMachine } from "../../machines/cluster/cluster.machine.ts";
import { instanceMachine } from "../../machines/instance/instance.machine.ts";
import { serviceMachine } from "../../machines/service/service.machine.ts";
import { compactContext } from "../../machines/task/task.decide.ts";
import { taskMachine } from "../../machines/task/task.machine.ts";
import { taskDefinitionMachine } from "../../machines/taskdef/taskdef.machine.ts";
import { compileTransitions } from "../../machines/transition.table.ts";
import { interpretedTransitions, type PureTransitions, pureTransitions } from "../../machines/transition.ts";

/**
 * The transition table (machines/transition.table.ts) must step exactly as XState's own
 * `transition()` does: for any sequence of events — accepted or not in the current state, guards
 * passing or not — the same state value, status, context and actions after every event.
 */

const ARN = "arn:aws:ecs:us-east-1:000000000000";
const spec = (networkMode: "bridge" | "awsvpc") => ({
  taskArn: `${ARN}:task/c/t1`,
  taskId: "t1",
  clusterArn: `${ARN}:cluster/c`,
  cluster: "c",
  taskDefinitionArn: `${ARN}:task-definition/web:1`,
  family: "web",
  revision: 1,
  launchType: "EC2" as const,
  networkMode,
  volumes: [],
  containers: [
    { name: "app", image: "x", essential: true, cpu: 64, memory: 128 },
    { name: "side", image: "y", essential: false },
  ],
});
const created = (networkMode: "bridge" | "awsvpc"): TaskEvent => ({
  type: "TaskCreated",
  at: 1,
  taskArn: `${ARN}:task/c/t1`,
  instanceId: "i1",
  containerInstanceArn: `${ARN}:container-instance/c/i1`,
  group: "service:web",
  overrides: {},
  tags: [{ key: "k", value: "v" }],
  enableExecuteCommand: false,
  reservation: { cpu: 64, memory: 128, ports: [80], portsUdp: [] },
  containers: [
    { name: "app", containerArn: "arn:c1" },
    { name: "side", containerArn: "arn:c2" },
  ],
  spec: spec(networkMode) as never,
  initialStatus: "PENDING",
});

const at = fc.integer({ min: 1, max: 1_000 });
const taskEvent: fc.Arbitrary<TaskEvent> = fc.oneof(
  fc.constantFrom("bridge", "awsvpc").map((m) => created(m as "bridge" | "awsvpc")),
  fc.record({
    type: fc.constant("TaskContainerChanged" as const),
    at,
    name: fc.constantFrom("app", "side", "nope"),
    lastStatus: fc.constantFrom("PENDING", "RUNNING", "STOPPED"),
    runtimeId: fc.option(fc.constantFrom("r1", "r2"), { nil: undefined }),
    exitCode: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    pullStartedAt: fc.option(at, { nil: undefined }),
    pullStoppedAt: fc.option(at, { nil: undefined }),
    healthStatus: fc.option(fc.constantFrom("HEALTHY", "UNHEALTHY", "UNKNOWN"), { nil: undefined }),
  }),
  fc.record({ type: fc.constant("TaskAttachmentsChanged" as const), at, attachments: fc.constant([]) }),
  fc.record({ type: fc.constant("TaskStarted" as const), at }),
  fc.record({
    type: fc.constant("TaskHealthChanged" as const),
    at,
    healthStatus: fc.constantFrom("HEALTHY", "UNHEALTHY", "UNKNOWN"),
  }),
  fc.record({
    type: fc.constant("TaskStopRequested" as const),
    at,
    stopCode: fc.constantFrom("UserInitiated", "TaskFailedToStart"),
    reason: fc.string(),
  }),
  fc.record({ type: fc.constant("TaskStopping" as const), at }),
  fc.record({ type: fc.constant("TaskDeprovisioning" as const), at }),
  fc.record({
    type: fc.constant("TaskStopped" as const),
    at,
    stopCode: fc.option(fc.constant("EssentialContainerExited"), { nil: undefined }),
    reason: fc.option(fc.string(), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("TaskTagsChanged" as const),
    at,
    tags: fc.array(fc.record({ key: fc.string(), value: fc.string() }), { maxLength: 2 }),
  }),
  fc.record({
    type: fc.constant("TaskProtectionChanged" as const),
    at,
    protectionEnabled: fc.boolean(),
    expiresAt: fc.option(at, { nil: undefined }),
  }),
) as fc.Arbitrary<TaskEvent>;

const registered: InstanceEvent = {
  type: "InstanceRegistered",
  at: 10,
  containerInstanceArn: `${ARN}:container-instance/c1/abc`,
  instanceId: "abc",
  cluster: "c1",
  hostname: "h",
  registeredResources: [{ name: "CPU", type: "INTEGER", integerValue: 2048 }],
  attributes: [{ name: "ecs.os-type", value: "linux" }],
  versionInfo: { agentVersion: "0.1.0" },
  capacity: ["EC2"],
  tags: [],
};
const instanceEvent: fc.Arbitrary<InstanceEvent> = fc.oneof(
  fc.constant(registered),
  fc.constant({ ...registered, type: "InstanceReregistered" } as InstanceEvent),
  fc.record({ type: fc.constant("InstanceAgentConnected" as const), at }),
  fc.record({ type: fc.constant("InstanceAgentDisconnected" as const), at, lastHeartbeatAt: at }),
  fc.record({ type: fc.constant("InstanceStatusChanged" as const), at, status: fc.constantFrom("ACTIVE", "DRAINING") }),
  fc.record({ type: fc.constant("InstanceDeregistered" as const), at }),
  fc.record({
    type: fc.constant("InstanceAttributesPut" as const),
    at,
    attributes: fc.constant([{ name: "color", value: "blue" }]),
  }),
  fc.record({ type: fc.constant("InstanceAttributesDeleted" as const), at, names: fc.constant(["color"]) }),
  fc.record({ type: fc.constant("InstanceTagsChanged" as const), at, tags: fc.constant([{ key: "a", value: "b" }]) }),
  fc.record({ type: fc.constant("InstanceRuntimeHealthChanged" as const), at, status: fc.constantFrom("OK", "IMPAIRED") }),
) as fc.Arbitrary<InstanceEvent>;

const clusterCreated: ClusterEvent = {
  type: "ClusterCreated",
  at: 1,
  clusterArn: `${ARN}:cluster/c1`,
  clusterName: "c1",
  settings: [],
  capacityProviders: [],
  defaultCapacityProviderStrategy: [],
  tags: [],
};
const clusterEvent: fc.Arbitrary<ClusterEvent> = fc.oneof(
  fc.constant(clusterCreated),
  fc.record({ type: fc.constant("ClusterDeleted" as const), at }),
  fc.record({ type: fc.constant("ClusterTagsChanged" as const), at, tags: fc.constant([{ key: "a", value: "b" }]) }),
) as fc.Arbitrary<ClusterEvent>;

interface Snap {
  value: unknown;
  status: string;
  context: unknown;
  can(e: never): boolean;
  matches(value: never): boolean;
  toJSON(): object;
}

const revision = fc.integer({ min: 1, max: 4 });
const taskDefinitionEvent: fc.Arbitrary<TaskDefinitionEvent> = fc.oneof(
  revision.map((n) => ({
    type: "TaskDefinitionRegistered" as const,
    at: n,
    revision: n,
    taskDefinitionArn: `${ARN}:task-definition/web:${n}`,
    spec: { family: "web", containerDefinitions: [{ name: "app", image: "nginx", memory: 128 }] } as never,
    tags: [],
  })),
  fc.record({ type: fc.constant("TaskDefinitionDeregistered" as const), at, revision }),
  fc.record({ type: fc.constant("TaskDefinitionDeleteRequested" as const), at, revision }),
  fc.record({
    type: fc.constant("TaskDefinitionTagsChanged" as const),
    at,
    revision,
    tags: fc.constant([{ key: "a", value: "b" }]),
  }),
) as fc.Arbitrary<TaskDefinitionEvent>;

/** Steps both through the events, comparing after each. */
function sameAsXState(machine: AnyStateMachine, table: PureTransitions<AnyStateMachine>, events: unknown[]) {
  let a = (initialTransition as unknown as (m: AnyStateMachine) => [Snap])(machine)[0];
  let b = table.initial() as unknown as Snap;
  expect(b.value).toEqual(a.value);
  expect(b.context).toEqual(a.context);
  for (const e of events) {
    const [na, actionsA] = transition(machine as never, a as never, e as never) as unknown as [
      Snap,
      { type: string }[],
    ];
    const [nb, actionsB] = table.transition(b as never, e as never) as unknown as [Snap, { type: string }[]];
    expect(nb.value).toEqual(na.value);
    expect(nb.status).toEqual(na.status);
    expect(nb.context).toEqual(na.context);
    expect(actionsB.map((x) => x.type)).toEqual(actionsA.map((x) => x.type));
    // A snapshot the table made answers like XState's (decide() asks it what it can do).
    expect(nb.can(e as never)).toBe(na.can(e as never));
    expect(nb.matches(na.value as never)).toBe(true);
    expect(nb.toJSON()).toEqual(na.toJSON());
    a = na;
    b = nb;
  }
}

function compiled(machine: AnyStateMachine, copyContext?: (c: object) => object): PureTransitions<AnyStateMachine> {
  const table = compileTransitions(machine, interpretedTransitions(machine), copyContext ? { copyContext } : {});
  if (!table) throw new Error(`${machine.id}: no transition table`);
  return table;
}

describe("transition table", () => {
  test("task: the same steps as XState's transition(), with and without the compact context", () => {
    const plain = compiled(taskMachine as AnyStateMachine);
    const compact = compiled(taskMachine as AnyStateMachine, compactContext as never);
    fc.assert(
      fc.property(fc.array(taskEvent, { maxLength: 14 }), (events) => {
        sameAsXState(taskMachine as AnyStateMachine, plain, events);
        sameAsXState(taskMachine as AnyStateMachine, compact, events);
      }),
      { numRuns: 400 },
    );
  });

  test("instance: the same steps as XState's transition() (inline guards)", () => {
    const machine = instanceMachine as AnyStateMachine;
    const table = compiled(machine);
    fc.assert(
      fc.property(fc.array(instanceEvent, { maxLength: 12 }), (events) => sameAsXState(machine, table, events)),
      { numRuns: 300 },
    );
  });

  test("cluster: the same steps as XState's transition()", () => {
    const machine = clusterMachine as AnyStateMachine;
    const table = compiled(machine);
    fc.assert(
      fc.property(fc.array(clusterEvent, { maxLength: 8 }), (events) => sameAsXState(machine, table, events)),
      { numRuns: 200 },
    );
  });

  test("task definition family: the same steps as XState's transition() (guards on the context)", () => {
    const machine = taskDefinitionMachine as AnyStateMachine;
    const table = compiled(machine);
    fc.assert(
      fc.property(fc.array(taskDefinitionEvent, { maxLength: 12 }), (events) => sameAsXState(machine, table, events)),
      { numRuns: 300 },
    );
  });

  test("every aggregate machine has a table (none falls back to the interpreter)", () => {
    for (const m of [
      taskMachine,
      instanceMachine,
      clusterMachine,
      serviceMachine,
      taskDefinitionMachine,
      accountMachine,
    ]) {
      expect(
        compileTransitions(m as AnyStateMachine, interpretedTransitions(m as AnyStateMachine)),
        m.id,
      ).toBeDefined();
    }
  });

  test("a machine using more of XState than a flat table gets the interpreter, with the same results", () => {
    const counter = setup({
      types: { context: {} as { n: number } },
      actions: { bump: assign(({ context }) => ({ n: context.n + 1 })) },
    }).createMachine({
      context: { n: 0 },
      initial: "a",
      states: { a: { entry: "bump", on: { GO: { target: "b" } } }, b: { entry: "bump", on: { GO: { target: "a" } } } },
    });
    expect(compileTransitions(counter, interpretedTransitions(counter))).toBeUndefined();
    sameAsXState(counter, pureTransitions(counter) as never, [{ type: "GO" }, { type: "GO" }, { type: "NOPE" }]);
  });
});
