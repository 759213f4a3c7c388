import { describe, expect, test } from "vitest";
import type { TaskCreated, TaskEvent } from "../../events/task.events.ts";
import {
  decideTask,
  evolveTask,
  foldTask,
  initialTask,
  type TaskCommand,
  type TaskSnapshot,
} from "../../machines/task/task.decide.ts";
import { specFor } from "../support/decider-spec.ts";

const spec = specFor<TaskSnapshot, TaskCommand, TaskEvent>({
  initial: initialTask,
  evolve: (s, e) => evolveTask(s, e).snapshot,
  decide: decideTask,
});

const ID = "0123456789abcdef0123456789abcdef";
const ARN = `arn:aws:ecs:us-east-1:000000000000:task/c1/${ID}`;

function created(group: string): TaskCreated {
  return {
    type: "TaskCreated",
    at: 1_000,
    taskArn: ARN,
    group,
    overrides: {},
    tags: [],
    enableExecuteCommand: false,
    reservation: { cpu: 0, memory: 32, ports: [], portsUdp: [] },
    containers: [{ name: "app", containerArn: "arn:container/app" }],
    spec: {
      taskArn: ARN,
      taskId: ID,
      clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c1",
      cluster: "c1",
      taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
      family: "web",
      revision: 1,
      launchType: "EC2",
      networkMode: "bridge",
      volumes: [],
      containers: [{ name: "app", image: "busybox", memory: 32, essential: true }],
    },
    initialStatus: "PENDING",
  };
}

const protect = (enabled: boolean, expiresAt?: number): TaskCommand => ({
  type: "SetProtection",
  at: 2_000,
  enabled,
  ...(expiresAt ? { expiresAt } : {}),
});

describe("task scale-in protection", () => {
  test("a service task records protection with its expiry; turning it off drops the expiry", () => {
    const svc = created("service:web");
    spec
      .given([svc])
      .when(protect(true, 9_000))
      .thenEvents([{ type: "TaskProtectionChanged", at: 2_000, protectionEnabled: true, expiresAt: 9_000 }]);
    spec
      .given([svc])
      .when(protect(false, 9_000))
      .thenEvents([{ type: "TaskProtectionChanged", at: 2_000, protectionEnabled: false }]);
    const s = foldTask([svc, { type: "TaskProtectionChanged", at: 2_000, protectionEnabled: true, expiresAt: 9_000 }]);
    expect(s.context.protection).toEqual({ enabled: true, expiresAt: 9_000 });
    // Protection is not a state change of the task: its version does not move.
    expect(s.context.version).toBe(foldTask([svc]).context.version);
  });

  test("standalone tasks and tasks being stopped are not valid targets; unknown tasks are not found", () => {
    spec
      .given([created("family:web")])
      .when(protect(true, 9_000))
      .rejects("InvalidParameterException", "TASK_NOT_VALID");
    const stopping: TaskEvent = { type: "TaskStopRequested", at: 1_500, stopCode: "UserInitiated", reason: "x" };
    spec
      .given([created("service:web"), stopping])
      .when(protect(true, 9_000))
      .rejects("InvalidParameterException", "TASK_NOT_VALID");
    spec.given([]).when(protect(true)).rejects("ResourceNotFoundException");
  });
});
