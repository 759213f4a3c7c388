import { initialTransition, transition } from "xstate";
import { describe, expect, test } from "vitest";
import type { TaskEvent } from "../../events/task.events.ts";
import { taskMachine } from "../../machines/task/task.machine.ts";
import { pureTransitions } from "../../machines/transition.ts";

/**
 * pureTransitions() steps a flat machine through a table read from its definition (or, for a
 * machine the table cannot model, calls the machine's own transition with one reusable inert
 * scope) instead of building an actor per call (xstate's transition()). Same snapshots, same
 * actions; test/property/machines.transition.property.test.ts checks it on random sequences.
 */

const spec = {
  taskArn: "arn:aws:ecs:us-east-1:000000000000:task/c/t1",
  taskId: "t1",
  clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
  cluster: "c",
  taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
  family: "web",
  revision: 1,
  launchType: "EC2" as const,
  networkMode: "bridge" as const,
  volumes: [],
  containers: [{ name: "app", image: "x", essential: true }],
};

const lifecycle: TaskEvent[] = [
  {
    type: "TaskCreated",
    at: 1,
    taskArn: spec.taskArn,
    instanceId: "i1",
    group: "family:web",
    overrides: {},
    tags: [],
    enableExecuteCommand: false,
    reservation: { cpu: 0, memory: 0, ports: [], portsUdp: [] },
    containers: [{ name: "app", containerArn: "arn:c1" }],
    spec: spec as never,
    initialStatus: "PENDING",
  },
  { type: "TaskContainerChanged", at: 2, name: "app", lastStatus: "RUNNING", runtimeId: "r1" },
  { type: "TaskStarted", at: 2 },
  { type: "TaskStopRequested", at: 3, stopCode: "UserInitiated", reason: "done" },
  { type: "TaskStopping", at: 3 },
  { type: "TaskContainerChanged", at: 4, name: "app", lastStatus: "STOPPED", exitCode: 0 },
  { type: "TaskStopped", at: 4 },
];

describe("pureTransitions", () => {
  test("gives the snapshots and actions xstate's transition() gives, event after event", () => {
    const fast = pureTransitions(taskMachine);
    let a = initialTransition(taskMachine)[0];
    let b = fast.initial();
    expect(b.value).toEqual(a.value);
    expect(b.context).toEqual(a.context);
    for (const e of lifecycle) {
      const [na, actionsA] = transition(taskMachine, a, e);
      const [nb, actionsB] = fast.transition(b, e);
      expect(nb.value).toEqual(na.value);
      expect(nb.status).toEqual(na.status);
      expect(nb.context).toEqual(na.context);
      expect(actionsB.map((x) => x.type)).toEqual(actionsA.map((x) => x.type));
      a = na;
      b = nb;
    }
    expect(b.value).toBe("STOPPED");
  });

  test("an event the state does not accept leaves the snapshot as it is and asks for nothing", () => {
    const fast = pureTransitions(taskMachine);
    const [next, actions] = fast.transition(fast.initial(), { type: "TaskStarted", at: 1 });
    expect(next.value).toBe("NEW");
    expect(actions).toEqual([]);
  });
});
