import type { InstanceView, TaskDemand } from "../../machines/placement/types.ts";

/** Builders for placement tests: a roomy, connected, ACTIVE EC2 instance and a small EC2 task. */

export const CLUSTER = "arn:aws:ecs:us-east-1:000000000000:cluster/c1";

export const arnOf = (id: string) => `arn:aws:ecs:us-east-1:000000000000:container-instance/c1/${id}`;

export function instance(id: string, over: Partial<InstanceView> = {}): InstanceView {
  return {
    arn: arnOf(id),
    id,
    status: "ACTIVE",
    agentConnected: true,
    attributes: { "ecs.availability-zone": "us-east-1a", "ecs.instance-type": "t3.medium", "ecs.os-type": "linux" },
    ec2InstanceId: `i-${id}`,
    agentVersion: "1.80.0",
    registeredAt: Date.UTC(2024, 0, 1),
    runningTasksCount: 0,
    remaining: { cpu: 2048, memory: 4096, ports: [22, 2375, 2376, 51678, 51679], portsUdp: [] },
    taskGroups: {},
    capacity: ["EC2"],
    ...over,
  };
}

export function demand(over: Partial<TaskDemand> = {}): TaskDemand {
  return {
    cpu: 256,
    memory: 512,
    ports: [],
    portsUdp: [],
    requiresAttributes: [],
    group: "family:web",
    launchType: "EC2",
    constraints: [],
    strategies: [],
    ...over,
  };
}

/** Freezes a value and everything it holds, so any write by the code under test throws. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** instanceId of each placed task, or the failure reason. */
export const outcome = (r: { placed: { instanceId: string } } | { failed: { reason: string } }) =>
  "placed" in r ? r.placed.instanceId : r.failed.reason;
