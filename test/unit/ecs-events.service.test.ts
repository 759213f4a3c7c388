import { expect, test } from "vitest";
import { envelope } from "../../events/envelope.ts";
import type { ServiceEvent } from "../../events/service.events.ts";
import { decideService, foldService } from "../../machines/service/service.decide.ts";
import { ecsEventsFor } from "../../services/control-plane/ecs-events.ts";
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
