import { expect, test } from "vitest";
import { envelope } from "../../events/envelope.ts";
import type { ServiceEvent } from "../../events/service.events.ts";
import { decideService, foldService } from "../../machines/service/service.decide.ts";
import { CIRCUIT_BREAKER_FAILED } from "../../machines/service/service.reconcile.ts";
import { ecsEventsFor } from "../../services/control-plane/ecs-events.ts";
import { unplacedMessage } from "../../services/scheduler/scheduler.ts";
import type { Agg, ReadModel } from "../../services/control-plane/read-model.ts";
import { serviceCreated } from "../support/service-world.ts";

const SUBJECT = "berth.evt.us-east-1.service.c1.web";

test("a deployment FAILED with its rollback, one log event, is two ECS deployment events with ids of their own", () => {
  const created = serviceCreated({ desiredCount: 2 }, 1_000);
  const before: ServiceEvent[] = [
    created,
    { type: "DeploymentRolloutChanged", at: 2_000, deploymentId: created.deployment.id, rolloutState: "COMPLETED", reason: "done" },
    { type: "DeploymentStarted", at: 3_000, deployment: { id: "ecs-svc/2", taskDefinition: "td:2", launchType: "EC2" } },
  ];
  const d = decideService({ type: "StopServiceDeployment", at: 4_000, deploymentId: "ecs-svc/2", rollbackId: "ecs-svc/3" }, foldService(before));
  const [event] = d.ok ? d.events : [];
  if (!event) throw new Error("no event decided");
  const after = foldService([...before, event]);
  const agg = { subject: SUBJECT, region: "us-east-1", seq: 4, version: 4, snapshot: after } as unknown as Agg<unknown>;
  const env = envelope(SUBJECT, after.context.serviceArn, 4, event, { source: "test" });
  const out = ecsEventsFor({} as ReadModel, "000000000000", SUBJECT, env, undefined, agg as never);
  expect(out.map((e) => [e["detail-type"], e.detail.eventName, e.detail.deploymentId])).toEqual([
    ["ECS Deployment State Change", "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2"],
    ["ECS Deployment State Change", "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/3"],
  ]);
  expect(new Set(out.map((e) => e.id)).size).toBe(2);
});

test("a deployment the circuit breaker failed: the event says 'task failed to start', as ECS's event does; DescribeServices keeps 'tasks'", () => {
  const created = serviceCreated({ desiredCount: 2 }, 1_000);
  const failed: ServiceEvent = {
    type: "DeploymentRolloutChanged",
    at: 2_000,
    deploymentId: created.deployment.id,
    rolloutState: "FAILED",
    reason: CIRCUIT_BREAKER_FAILED,
  };
  const after = foldService([created, failed]);
  const agg = { subject: SUBJECT, region: "us-east-1", seq: 2, version: 2, snapshot: after } as unknown as Agg<unknown>;
  const env = envelope(SUBJECT, after.context.serviceArn, 2, failed, { source: "test" });
  const [event] = ecsEventsFor({} as ReadModel, "000000000000", SUBJECT, env, undefined, agg as never);
  expect(event?.detail).toMatchObject({
    eventType: "ERROR",
    eventName: "SERVICE_DEPLOYMENT_FAILED",
    reason: "ECS deployment circuit breaker: task failed to start.",
  });
  expect(after.context.deployments[0]?.rolloutStateReason).toBe("ECS deployment circuit breaker: tasks failed to start.");
});

test("a placement failure's service action carries the reason the placement gave, where the message's wording names none", () => {
  const created = serviceCreated({ desiredCount: 2 }, 1_000);
  const action = (recorded: ServiceEvent) => {
    const after = foldService([created, recorded]);
    const agg = { subject: SUBJECT, region: "us-east-1", seq: 2, version: 2, snapshot: after } as unknown as Agg<unknown>;
    const env = envelope(SUBJECT, after.context.serviceArn, 2, recorded, { source: "test" });
    return ecsEventsFor({} as ReadModel, "000000000000", SUBJECT, env, undefined, agg as never)[0]?.detail;
  };
  const placement = (instance: string, reason: string) => {
    const d = decideService(
      {
        type: "RecordMessage",
        at: 2_000,
        id: "m1",
        key: "placement",
        message: unplacedMessage("web", { arn: `arn:aws:ecs:us-east-1:000000000000:container-instance/c1/${instance}`, reason }),
        reason,
      },
      foldService([created]),
    );
    if (!d.ok || !d.events[0]) throw new Error("no event decided");
    return d.events[0];
  };
  const instance = "a".repeat(32);
  for (const reason of ["RESOURCE:PORTS_UDP", "AGENT", "MemberOf placement constraint unsatisfied.", "RESOURCE:CPU"])
    expect(action(placement(instance, reason))).toMatchObject({
      eventType: "ERROR",
      eventName: "SERVICE_TASK_PLACEMENT_FAILURE",
      reason,
      containerInstanceArns: [`arn:aws:ecs:us-east-1:000000000000:container-instance/${created.cluster}/${instance}`],
    });
  // A message recorded before messages carried their reason: read from its wording.
  const { reason: _, ...older } = placement(instance, "RESOURCE:MEMORY") as ServiceEvent & { reason?: string };
  expect(action(older as ServiceEvent)).toMatchObject({ reason: "RESOURCE:MEMORY" });
});
