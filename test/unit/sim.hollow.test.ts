import { describe, expect, test } from "vitest";
import type { ContainerObserved, Observation } from "../../events/agent.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { eniAttachmentId } from "../../machines/task/task.eni.ts";
import { observationMsgId } from "../../services/agent/observation.ts";
import { HollowInstance, SIGTERM_EXIT, SIMULATED_FAILURE } from "../../services/sim/hollow.ts";

const ARN = "arn:aws:ecs:us-east-1:000000000000:task/sim/0123456789abcdef0123456789abcdef";

function spec(names = ["app"], networkMode: TaskRuntimeSpec["networkMode"] = "bridge"): TaskRuntimeSpec {
  return {
    taskArn: ARN,
    taskId: "0123456789abcdef0123456789abcdef",
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/sim",
    cluster: "sim",
    taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
    family: "web",
    revision: 1,
    launchType: "EC2",
    networkMode,
    volumes: [],
    containers: names.map((name) => ({ name, image: "x", essential: true }) as TaskRuntimeSpec["containers"][number]),
  };
}

const statuses = (obs: readonly { type: string }[]) =>
  obs.map((o) => (o.type === "ContainerObserved" ? `${(o as ContainerObserved).containerName}:${(o as ContainerObserved).status}` : o.type));

describe("a hollow instance answers directives as a real agent would", () => {
  test("a start completes with every container RUNNING, each with a Docker-like id", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    const { task, fresh } = inst.accept(spec(["app", "sidecar"]));
    expect(fresh).toBe(true);
    const obs = inst.complete(task, 10, false) as ContainerObserved[];
    expect(statuses(obs)).toEqual(["app:RUNNING", "sidecar:RUNNING"]);
    expect(obs.every((o) => /^[0-9a-f]{64}$/.test(o.runtimeId ?? ""))).toBe(true);
    expect(new Set(obs.map((o) => o.runtimeId)).size).toBe(2);
  });

  test("a failed start reports every container STOPPED with the simulated reason", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    const { task } = inst.accept(spec());
    const [o] = inst.complete(task, 10, true) as ContainerObserved[];
    expect(o).toMatchObject({ status: "STOPPED", reason: SIMULATED_FAILURE });
    expect(o?.exitCode).toBeUndefined();
  });

  test("a repeated StartTask changes nothing, and its facts carry the same message ids", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    const first = inst.accept(spec());
    const facts = inst.complete(first.task, 10, false);
    const again = inst.accept(spec());
    expect(again.fresh).toBe(false);
    expect(inst.complete(again.task, 20, false)).toEqual([]);
    expect(inst.facts(again.task, 30).map(observationMsgId)).toEqual(facts.map(observationMsgId));
  });

  test("StopTask: stopping first, then each running container STOPPED by SIGTERM", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    inst.complete(inst.accept(spec()).task, 10, false);
    const obs = inst.stop(ARN, ["app"], 20);
    expect(statuses(obs)).toEqual(["TaskStoppingObserved", "app:STOPPED"]);
    expect((obs[1] as ContainerObserved).exitCode).toBe(SIGTERM_EXIT);
  });

  test("a stop before the start completed abandons the start", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    const { task } = inst.accept(spec());
    expect(statuses(inst.stop(ARN, ["app"], 5))).toEqual(["TaskStoppingObserved", "app:STOPPED"]);
    expect(inst.complete(task, 10, false)).toEqual([]);
  });

  test("a stop for a task never started here reports the named containers STOPPED", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    expect(statuses(inst.stop(ARN, ["app", "log"], 5))).toEqual(["app:STOPPED", "log:STOPPED"]);
  });

  test("exit: a running task's containers stop with the exit code; old stopped tasks are forgotten", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    inst.complete(inst.accept(spec()).task, 10, false);
    const [o] = inst.exit(ARN, 137, 50) as ContainerObserved[];
    expect(o).toMatchObject({ status: "STOPPED", exitCode: 137 });
    expect(inst.exit(ARN, 1, 60)).toEqual([]);
    expect(inst.prune(40)).toBe(0);
    expect(inst.prune(51)).toBe(1);
    expect(inst.tasks.size).toBe(0);
  });

  test("an awsvpc task's interface: ATTACHED before its containers run, DETACHED after they stop, under the id the task was created with", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    const { task } = inst.accept(spec(["app"], "awsvpc"));
    const started = inst.complete(task, 10, false);
    expect(statuses(started)).toEqual(["TaskAttachmentObserved", "app:RUNNING"]);
    const attached = started[0] as Extract<Observation, { type: "TaskAttachmentObserved" }>;
    expect(attached).toMatchObject({ status: "ATTACHED", attachmentId: eniAttachmentId(task.taskId) });
    expect(attached.privateIPv4Address).toMatch(/^10\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
    expect(attached.macAddress).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    // A redelivered StartTask reports the same facts again (the same msgIDs: stored once).
    expect(inst.facts(task, 11).map(observationMsgId)).toEqual(started.map(observationMsgId));

    const stopped = inst.stop(ARN, [], 20);
    expect(statuses(stopped)).toEqual(["TaskStoppingObserved", "app:STOPPED", "TaskAttachmentObserved"]);
    expect(stopped[2]).toMatchObject({ status: "DETACHED", attachmentId: attached.attachmentId, privateIPv4Address: attached.privateIPv4Address });
  });

  test("an awsvpc task whose start fails lets its interface go; one stopped before its start completes never had one", () => {
    const failing = new HollowInstance("i1", "arn:i1");
    const { task } = failing.accept(spec(["app"], "awsvpc"));
    expect(statuses(failing.complete(task, 10, true))).toEqual(["TaskAttachmentObserved", "app:STOPPED", "TaskAttachmentObserved"]);

    const early = new HollowInstance("i2", "arn:i2");
    const accepted = early.accept(spec(["app"], "awsvpc"));
    expect(statuses(early.stop(ARN, [], 5))).toEqual(["TaskStoppingObserved", "app:STOPPED"]);
    expect(early.complete(accepted.task, 10, false)).toEqual([]);
  });

  test("a crash of an awsvpc task reports its containers STOPPED, then its interface let go", () => {
    const inst = new HollowInstance("i1", "arn:i1");
    const { task } = inst.accept(spec(["app", "sidecar"], "awsvpc"));
    inst.complete(task, 10, false);
    expect(statuses(inst.exit(ARN, 137, 20))).toEqual(["app:STOPPED", "sidecar:STOPPED", "TaskAttachmentObserved"]);
  });
});
