import { describe, expect, test } from "vitest";
import type { ContainerObserved } from "../../events/agent.ts";
import type { TaskCreated, TaskEvent } from "../../events/task.events.ts";
import {
  decideTask,
  ESSENTIAL_EXITED,
  evolveTask,
  foldTask,
  initialTask,
  type TaskCommand,
  type TaskSnapshot,
} from "../../machines/task/task.decide.ts";
import { precreatedEni } from "../../machines/task/task.eni.ts";
import { connectivityOf, containerArnOf, runtimeSpecOf, taskArnOf } from "../../machines/task/task.spec.ts";
import { specFor } from "../support/decider-spec.ts";

const spec = specFor<TaskSnapshot, TaskCommand, TaskEvent>({
  initial: initialTask,
  evolve: (s, e) => evolveTask(s, e).snapshot,
  decide: decideTask,
});

const ARN = "arn:aws:ecs:us-east-1:000000000000:task/c1/0123456789abcdef0123456789abcdef";

function created(containers: { name: string; essential?: boolean; healthCheck?: boolean }[], networkMode: "bridge" | "awsvpc" = "bridge"): TaskCreated {
  return {
    type: "TaskCreated",
    at: 1_000,
    taskArn: ARN,
    containerInstanceArn: "arn:aws:ecs:us-east-1:000000000000:container-instance/c1/ffffffffffffffffffffffffffffffff",
    instanceId: "ffffffffffffffffffffffffffffffff",
    group: "family:web",
    overrides: {},
    tags: [{ key: "team", value: "a" }],
    enableExecuteCommand: false,
    reservation: { cpu: 0, memory: 64, ports: [], portsUdp: [] },
    containers: containers.map((c) => ({ name: c.name, containerArn: `arn:container/${c.name}` })),
    spec: {
      taskArn: ARN,
      taskId: "0123456789abcdef0123456789abcdef",
      clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c1",
      cluster: "c1",
      taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
      family: "web",
      revision: 1,
      launchType: "EC2",
      networkMode,
      volumes: [],
      containers: containers.map((c) => ({
        name: c.name,
        image: "busybox",
        memory: 32,
        essential: c.essential ?? true,
        ...(c.healthCheck ? { healthCheck: { command: ["CMD", "true"] } } : {}),
      })),
    },
    initialStatus: networkMode === "awsvpc" ? "PROVISIONING" : "PENDING",
  };
}

const obs = (name: string, status: ContainerObserved["status"], extra: Partial<ContainerObserved> = {}): TaskCommand => ({
  type: "ObserveContainer",
  at: 2_000,
  observation: { type: "ContainerObserved", at: 2_000, instanceId: "i", taskArn: ARN, containerName: name, status, ...extra },
});

const one = created([{ name: "app" }]);
const two = created([{ name: "app" }, { name: "side", essential: false }]);

describe("task decider", () => {
  test("CreateTask on a new task records it; on an existing one it is refused", () => {
    spec.given([]).when({ type: "CreateTask", event: one }).thenEvents([one]);
    spec.given([one]).when({ type: "CreateTask", event: one }).rejects("InvalidParameterException");
  });

  test("a task starts PENDING (PROVISIONING for awsvpc) with desired RUNNING", () => {
    expect(spec.given([one]).state.value).toBe("PENDING");
    expect(spec.given([created([{ name: "a" }], "awsvpc")]).state.value).toBe("PROVISIONING");
    expect(spec.given([one]).state.context.desiredStatus).toBe("RUNNING");
  });

  test("an awsvpc task shows its interface from its creation, PRECREATED in its subnet; others have none", () => {
    const vpc = { ...created([{ name: "a" }], "awsvpc"), subnetId: "subnet-abcd1234" };
    expect(spec.given([vpc]).state.context.attachments).toEqual([precreatedEni(vpc.spec.taskId, "subnet-abcd1234")]);
    expect(spec.given([one]).state.context.attachments).toEqual([]);
  });

  test("all containers RUNNING → the task is RUNNING", () => {
    spec.given([one]).when(obs("app", "RUNNING", { runtimeId: "r1" })).thenTypes(["TaskContainerChanged", "TaskStarted"]);
  });

  test("an essential container exiting stops the task with EssentialContainerExited and its exit code", () => {
    const given = spec.given([one]);
    const d = given.when(obs("app", "STOPPED", { exitCode: 3, runtimeId: "r1" }));
    d.thenTypes(["TaskContainerChanged", "TaskStarted", "TaskStopRequested", "TaskStopped"]);
    const after = foldTask([one, ...(d.decision.ok ? d.decision.events : [])]);
    expect(after.value).toBe("STOPPED");
    expect(after.context.stopCode).toBe("EssentialContainerExited");
    expect(after.context.stoppedReason).toBe(ESSENTIAL_EXITED);
    expect(after.context.containers[0]?.exitCode).toBe(3);
    expect(after.context.tags).toEqual([]);
  });

  test("an essential container that never ran stops the task with TaskFailedToStart and Docker's reason", () => {
    const d = spec.given([one]).when(obs("app", "STOPPED", { reason: "CannotStartContainerError: no such image" }));
    d.thenTypes(["TaskContainerChanged", "TaskStopRequested", "TaskStopped"]);
    const after = foldTask([one, ...(d.decision.ok ? d.decision.events : [])]);
    expect(after.context.stopCode).toBe("TaskFailedToStart");
    expect(after.context.stoppedReason).toMatch(/CannotStartContainerError/);
  });

  test("a non-essential container exiting leaves the task RUNNING", () => {
    const running = chain([two], obs("app", "RUNNING"), obs("side", "RUNNING"));
    const s = foldTask(running);
    expect(s.value).toBe("RUNNING");
    const d = spec.given(running).when(obs("side", "STOPPED", { exitCode: 0 }));
    d.thenTypes(["TaskContainerChanged"]);
  });

  test("an observation that does not advance the container is redundant", () => {
    const running = [one, ...decided([one], obs("app", "RUNNING", { runtimeId: "r1" }))];
    spec.given(running).when(obs("app", "RUNNING", { runtimeId: "r1" })).thenEvents([]);
    spec.given(running).when(obs("app", "PENDING", { runtimeId: "r1" })).thenEvents([]);
  });

  test("StopTask asks for STOPPED once; repeating it changes nothing", () => {
    const stop: TaskCommand = { type: "StopTask", at: 3_000, stopCode: "UserInitiated", reason: "bye" };
    spec.given([one]).when(stop).thenEvents([{ type: "TaskStopRequested", at: 3_000, stopCode: "UserInitiated", reason: "bye" }]);
    const requested: TaskEvent = { type: "TaskStopRequested", at: 3_000, stopCode: "UserInitiated", reason: "bye" };
    spec.given([one, requested]).when(stop).thenEvents([]);
    spec.given([]).when(stop).rejects("InvalidParameterException", "The referenced task was not found.");
  });

  test("StopTask emits the stopOnAgent intent; creation emits startOnAgent", () => {
    const s1 = evolveTask(initialTask(), one);
    expect(s1.intents).toEqual(["startOnAgent"]);
    const s2 = evolveTask(s1.snapshot, { type: "TaskStopRequested", at: 2, stopCode: "UserInitiated", reason: "x" });
    expect(s2.intents).toEqual(["stopOnAgent"]);
  });

  test("StopOrphaned (its instance deregistered with force): stop request, each container still up, then the task STOPPED", () => {
    const orphan: TaskCommand = { type: "StopOrphaned", at: 5_000, reason: "orphaned" };
    const running = chain([two], obs("app", "RUNNING"), obs("side", "RUNNING"), obs("side", "STOPPED", { exitCode: 0 }));
    const d = spec.given(running).when(orphan);
    d.thenTypes(["TaskStopRequested", "TaskContainerChanged", "TaskStopped"]);
    const after = foldTask([...running, ...(d.decision.ok ? d.decision.events : [])]);
    expect(after.value).toBe("STOPPED");
    expect(after.context.desiredStatus).toBe("STOPPED");
    expect(after.context.stopCode).toBe("UserInitiated");
    expect(after.context.stoppedReason).toBe("orphaned");
    expect(after.context.containers.map((c) => [c.name, c.lastStatus, c.reason, c.exitCode])).toEqual([
      ["app", "STOPPED", "orphaned", undefined],
      ["side", "STOPPED", undefined, 0],
    ]);

    // Already stopping (a user's stop, the scheduler's write-off): that stop stands.
    const requested: TaskEvent = { type: "TaskStopRequested", at: 3_000, stopCode: "ServiceSchedulerInitiated", reason: "written off" };
    const stopping = spec.given([one, requested]).when(orphan);
    stopping.thenTypes(["TaskContainerChanged", "TaskStopped"]);
    const stopped = foldTask([one, requested, ...(stopping.decision.ok ? stopping.decision.events : [])]);
    expect([stopped.value, stopped.context.stopCode, stopped.context.stoppedReason]).toEqual(["STOPPED", "ServiceSchedulerInitiated", "written off"]);

    // A task that never started is not a failure to start: its stop is the deregistration's.
    const pending = spec.given([one]).when(orphan);
    pending.thenTypes(["TaskStopRequested", "TaskContainerChanged", "TaskStopped"]);
    expect(foldTask([one, ...(pending.decision.ok ? pending.decision.events : [])]).context.stopCode).toBe("UserInitiated");

    spec.given([one, ...decided([one], orphan)]).when(orphan).thenEvents([]);
    spec.given([]).when(orphan).thenEvents([]);
  });

  test("after a user stop, the containers stopping brings the task to STOPPED with UserInitiated", () => {
    const requested: TaskEvent = { type: "TaskStopRequested", at: 3_000, stopCode: "UserInitiated", reason: "bye" };
    const running = [one, ...decided([one], obs("app", "RUNNING")), requested];
    const d = spec.given(running).when(obs("app", "STOPPED", { exitCode: 143 }));
    d.thenTypes(["TaskContainerChanged", "TaskStopped"]);
    const after = foldTask([...running, ...(d.decision.ok ? d.decision.events : [])]);
    expect(after.context.stopCode).toBe("UserInitiated");
    expect(after.context.stoppedReason).toBe("bye");
  });

  describe("an awsvpc task stopping", () => {
    const vpc = { ...created([{ name: "app" }], "awsvpc"), subnetId: "subnet-abcd1234" };
    const precreated = precreatedEni(vpc.spec.taskId, "subnet-abcd1234");
    const eni = (status: string) => ({ ...precreated, status });
    const observe = (status: string, at = 2_000): TaskCommand => ({ type: "ObserveAttachment", at, attachments: [eni(status)] });
    const attachedRunning = [vpc, ...decided([vpc], observe("ATTACHED"))];
    const running = [...attachedRunning, ...decided(attachedRunning, obs("app", "RUNNING"))];
    const stop: TaskEvent = { type: "TaskStopRequested", at: 3_000, stopCode: "UserInitiated", reason: "bye" };
    const containersStopped = [...running, stop, ...decided([...running, stop], obs("app", "STOPPED", { exitCode: 0 }))];

    test("its containers stopped while its agent holds the interface: DEPROVISIONING, its execution over", () => {
      spec.given([...running, stop]).when(obs("app", "STOPPED", { exitCode: 0 })).thenTypes(["TaskContainerChanged", "TaskDeprovisioning"]);
      const t = foldTask(containersStopped);
      expect([t.value, t.context.desiredStatus, t.context.executionStoppedAt, t.context.attachments[0]?.status]).toEqual([
        "DEPROVISIONING",
        "STOPPED",
        2_000,
        "ATTACHED",
      ]);
      expect(t.context.tags).toEqual(vpc.tags);
    });

    test("the interface let go: ECS deletes it and the task is STOPPED; a late report of it changes nothing", () => {
      const released = spec.given(containersStopped).when(observe("DETACHED", 4_000));
      released.thenEvents([
        { type: "TaskAttachmentsChanged", at: 4_000, attachments: [eni("DETACHED")] },
        { type: "TaskAttachmentsChanged", at: 4_000, attachments: [eni("DELETED")] },
        { type: "TaskStopped", at: 4_000, executionStoppedAt: 4_000 },
      ]);
      const stopped = [...containersStopped, ...decided(containersStopped, observe("DETACHED", 4_000))];
      const t = foldTask(stopped);
      expect([t.value, t.context.executionStoppedAt, t.context.stoppedAt, t.context.stopCode]).toEqual(["STOPPED", 2_000, 4_000, "UserInitiated"]);
      spec.given(stopped).when(observe("DETACHED", 5_000)).thenEvents([]);
      spec.given(stopped).when(observe("ATTACHED", 5_000)).thenEvents([]);
    });

    test("an interface let go before the containers stopped, or never attached, is deleted as the task stops", () => {
      const detached = [...running, stop, ...decided([...running, stop], observe("DETACHED"))];
      spec.given(detached).when(obs("app", "STOPPED", { exitCode: 0 })).thenTypes(["TaskContainerChanged", "TaskAttachmentsChanged", "TaskStopped"]);
      const provisioning = spec.given([vpc, stop]).when(obs("app", "STOPPED"));
      provisioning.thenTypes(["TaskContainerChanged", "TaskStopped", "TaskAttachmentsChanged"]);
      const t = foldTask([vpc, stop, ...decided([vpc, stop], obs("app", "STOPPED"))]);
      expect([t.value, t.context.attachments]).toEqual(["STOPPED", [eni("DELETED")]]);
    });

    test("its instance deregistered with force, the task stops at once, the interface deleted", () => {
      const orphaned = foldTask([...running, ...decided(running, { type: "StopOrphaned", at: 5_000, reason: "orphaned" })]);
      expect([orphaned.value, orphaned.context.attachments[0]?.status]).toEqual(["STOPPED", "DELETED"]);
      const waiting = foldTask([...containersStopped, ...decided(containersStopped, { type: "StopOrphaned", at: 5_000, reason: "orphaned" })]);
      expect([waiting.value, waiting.context.attachments[0]?.status]).toEqual(["STOPPED", "DELETED"]);
    });
  });

  test("TaskStopping moves a running task to STOPPING only once", () => {
    const running = [one, ...decided([one], obs("app", "RUNNING"))];
    spec.given(running).when({ type: "ObserveTaskStopping", at: 5 }).thenTypes(["TaskStopping"]);
    spec.given([...running, { type: "TaskStopping", at: 5 }]).when({ type: "ObserveTaskStopping", at: 6 }).thenEvents([]);
  });

  test("task health follows essential containers with health checks", () => {
    const hc = created([{ name: "app", healthCheck: true }]);
    const running = [hc, ...decided([hc], obs("app", "RUNNING"))];
    spec.given(running).when(obs("app", "RUNNING", { healthStatus: "HEALTHY" })).thenTypes(["TaskContainerChanged", "TaskHealthChanged"]);
    spec.given(running).when(obs("app", "RUNNING", { healthStatus: "UNHEALTHY" })).thenTypes(["TaskContainerChanged", "TaskHealthChanged"]);
  });

  test("tags: TagTask merges, UntagTask removes", () => {
    spec.given([one]).when({ type: "TagTask", at: 9, tags: [{ key: "team", value: "b" }, { key: "x", value: "y" }] }).thenEvents([
      { type: "TaskTagsChanged", at: 9, tags: [{ key: "team", value: "b" }, { key: "x", value: "y" }] },
    ]);
    spec.given([one]).when({ type: "UntagTask", at: 9, tagKeys: ["team"] }).thenEvents([{ type: "TaskTagsChanged", at: 9, tags: [] }]);
  });

  test("replaying a recorded sequence gives the same snapshot as the live path", () => {
    const live: TaskEvent[] = [two];
    let s = foldTask(live);
    for (const c of [obs("app", "RUNNING", { runtimeId: "a" }), obs("side", "RUNNING"), obs("side", "STOPPED", { exitCode: 0 }), obs("app", "STOPPED", { exitCode: 1 })]) {
      const d = decideTask(c, s);
      if (!d.ok) throw new Error("rejected");
      for (const e of d.events) {
        live.push(e);
        s = evolveTask(s, e).snapshot;
      }
    }
    const replayed = foldTask(JSON.parse(JSON.stringify(live)) as TaskEvent[]);
    expect(replayed.value).toBe(s.value);
    expect(replayed.context).toEqual(s.context);
    expect(s.value).toBe("STOPPED");
  });
});

describe("a task's ARNs", () => {
  const containerArn = (id: string) => `arn:aws:ecs:us-east-1:000000000000:container/c1/0123456789abcdef0123456789abcdef/${id}`;

  test("ECS's long ARNs are built from the cluster's ARN and the ids, not kept per task", () => {
    const e = created([{ name: "app" }, { name: "side" }]);
    e.containers = [
      { name: "app", containerArn: containerArn("3f1c0a52-5d1e-4f4b-9a53-0c8f3a3c2b11") },
      { name: "side", containerArn: containerArn("7b0e2c1d-2a4f-4e61-8d3c-5f9a1b2c3d4e") },
    ];
    const t = foldTask([e]).context;
    expect(t.arn).toBeUndefined();
    expect(t.containers.map((c) => c.arn)).toEqual([undefined, undefined]);
    expect(t.containers.map((c) => c.containerId)).toEqual(["3f1c0a52-5d1e-4f4b-9a53-0c8f3a3c2b11", "7b0e2c1d-2a4f-4e61-8d3c-5f9a1b2c3d4e"]);
    expect(taskArnOf(t)).toBe(ARN);
    expect(t.containers.map((c) => containerArnOf(t, c))).toEqual(e.containers.map((c) => c.containerArn));
    expect(runtimeSpecOf(t)).toEqual(e.spec);
    // Placed on an instance, a task is CONNECTED from its creation, before it starts, as ECS shows it.
    expect(connectivityOf(t)).toEqual({ connectivity: "CONNECTED", connectivityAt: e.at });
    const started = foldTask([e, { type: "TaskStarted", at: 5_000 }]).context;
    expect(connectivityOf(started)).toEqual(connectivityOf(t));
  });

  test("ARNs of another form are kept as they were given", () => {
    const odd = "arn:aws:ecs:us-east-1:000000000000:task/0123456789abcdef0123456789abcdef"; // ECS's short form
    const e = created([{ name: "app" }, { name: "side" }]);
    e.taskArn = odd;
    e.containers = [
      { name: "app", containerArn: "arn:container/app" },
      { name: "side", containerArn: `${containerArn("x")}/y` },
    ];
    const t = foldTask([e]).context;
    expect(taskArnOf(t)).toBe(odd);
    expect(runtimeSpecOf(t).taskArn).toBe(odd);
    expect(t.containers.map((c) => containerArnOf(t, c))).toEqual(["arn:container/app", `${containerArn("x")}/y`]);

    // A cluster ARN that is not an ECS one: its tasks' ARNs are kept whole too.
    const elsewhere = created([{ name: "app" }]);
    elsewhere.spec.clusterArn = "c1";
    expect(taskArnOf(foldTask([elsewhere]).context)).toBe(ARN);
    expect(foldTask([elsewhere]).context.arn).toBe(ARN);
  });
});

function chain(given: TaskEvent[], ...commands: TaskCommand[]): TaskEvent[] {
  const out = [...given];
  for (const c of commands) out.push(...decided(out, c));
  return out;
}

function decided(given: TaskEvent[], command: TaskCommand): TaskEvent[] {
  const d = decideTask(command, foldTask(given));
  if (!d.ok) throw new Error(d.rejection.message);
  return d.events;
}
