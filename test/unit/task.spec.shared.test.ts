import { describe, expect, test } from "vitest";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { runtimeSpecOf, taskSpecOf } from "../../machines/task/task.spec.ts";

const containers: TaskRuntimeSpec["containers"] = [
  { name: "app", image: "busybox", essential: true, cpu: 0, memory: 64 } as TaskRuntimeSpec["containers"][number],
];
const volumes: TaskRuntimeSpec["volumes"] = [];

const spec = (taskId: string, over: Partial<TaskRuntimeSpec> = {}): TaskRuntimeSpec => ({
  taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/${taskId}`,
  taskId,
  clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
  cluster: "c",
  taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
  family: "web",
  revision: 1,
  launchType: "EC2",
  networkMode: "bridge",
  volumes,
  containers,
  ...over,
});

describe("a task's shared spec", () => {
  test("gives back the whole runtime spec with the task's ARN and id", () => {
    const s = spec("a1");
    const shared = taskSpecOf(s);
    expect(shared).not.toHaveProperty("taskArn");
    expect(shared).not.toHaveProperty("taskId");
    expect(runtimeSpecOf({ taskId: s.taskId, spec: shared })).toEqual(s);
  });

  test("tasks alike share one spec; any difference gets its own", () => {
    const a = taskSpecOf(spec("a1"));
    expect(taskSpecOf(spec("a2"))).toBe(a);
    for (const over of [
      { cpu: "256" },
      { memory: "512" },
      { revision: 2 },
      { networkMode: "host" as const },
      { launchType: "EXTERNAL" as const },
      { cluster: "d" },
      { pidMode: "host" as const },
      { containers: [...containers] }, // equal content in another list: not known to be the same
      { volumes: [] },
    ]) {
      const other = taskSpecOf(spec("b1", over));
      expect(other).not.toBe(a);
      expect(other).toMatchObject(over);
      expect(taskSpecOf(spec("b2", over))).toBe(other);
    }
  });
});
