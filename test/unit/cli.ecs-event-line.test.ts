import { expect, test } from "vitest";
import { ecsEventLine, resourceOf } from "../../services/cli/ecs-event-line.ts";

const ARN = "arn:aws:ecs:us-east-1:000000000000";
const event = (type: string, resource: string, detail: Record<string, unknown>) =>
  JSON.stringify({
    version: "0",
    id: "6a7f3ef4-0b2c-4d0e-9f40-7a1c3b3c0d11",
    "detail-type": type,
    source: "aws.ecs",
    account: "000000000000",
    time: "2026-11-22T13:27:09Z",
    region: "us-east-1",
    resources: [`${ARN}:${resource}`],
    detail,
  });

const cells = (line: string) => line.split(/\s{2,}/);

test("a task state change: its statuses, health when known, the stop reason and the version", () => {
  const running = event("ECS Task State Change", "task/default/abc", {
    lastStatus: "RUNNING",
    desiredStatus: "RUNNING",
    healthStatus: "UNKNOWN",
    version: 4,
  });
  expect(cells(ecsEventLine(running))).toEqual([
    "2026-11-22T13:27:09Z",
    "ECS Task State Change",
    "task/default/abc",
    "RUNNING (desired RUNNING)",
    "v4",
  ]);
  const stopping = event("ECS Task State Change", "task/default/abc", {
    lastStatus: "STOPPING",
    desiredStatus: "STOPPED",
    healthStatus: "UNHEALTHY",
    stoppedReason: "Task failed container health checks",
    version: 6,
  });
  expect(cells(ecsEventLine(stopping)).slice(2)).toEqual([
    "task/default/abc",
    "STOPPING (desired STOPPED) UNHEALTHY — Task failed container health checks",
    "v6",
  ]);
});

test("a container instance, a service action and a deployment", () => {
  const instance = event("ECS Container Instance State Change", "container-instance/default/i1", {
    status: "DRAINING",
    agentConnected: false,
    runningTasksCount: 2,
    pendingTasksCount: 0,
    version: 9,
  });
  expect(cells(ecsEventLine(instance)).slice(1)).toEqual([
    "ECS Container Instance State Change",
    "container-instance/default/i1",
    "DRAINING agent disconnected, 2 running, 0 pending",
    "v9",
  ]);
  const action = event("ECS Service Action", "service/default/web", {
    eventType: "WARN",
    eventName: "SERVICE_TASK_PLACEMENT_FAILURE",
    reason: "RESOURCE:MEMORY",
  });
  expect(cells(ecsEventLine(action)).slice(2)).toEqual([
    "service/default/web",
    "SERVICE_TASK_PLACEMENT_FAILURE RESOURCE:MEMORY",
  ]);
  const deployment = event("ECS Deployment State Change", "service/default/web", {
    eventType: "ERROR",
    eventName: "SERVICE_DEPLOYMENT_FAILED",
    deploymentId: "ecs-svc/1234",
    reason: "ECS deployment circuit breaker: task failed to start.",
  });
  expect(cells(ecsEventLine(deployment)).slice(2)).toEqual([
    "service/default/web",
    "SERVICE_DEPLOYMENT_FAILED ecs-svc/1234: ECS deployment circuit breaker: task failed to start.",
  ]);
});

test("what is not an ECS event is printed as it came", () => {
  expect(ecsEventLine("not json")).toBe("not json");
  expect(ecsEventLine('{"hello":1}')).toBe('{"hello":1}');
  expect(ecsEventLine("null")).toBe("null");
  const other = event("ECS Something New", "cluster/default", { a: 1 });
  expect(cells(ecsEventLine(other)).slice(1)).toEqual(["ECS Something New", "cluster/default", '{"a":1}']);
});

test("an ARN's resource part; anything else whole", () => {
  expect(resourceOf(`${ARN}:task/default/abc`)).toBe("task/default/abc");
  expect(resourceOf("arn:aws:ecs:us-east-1")).toBe("arn:aws:ecs:us-east-1");
  expect(resourceOf("abc")).toBe("abc");
});
