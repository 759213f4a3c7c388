import { describe, expect, test } from "vitest";
import type { ServiceEvent } from "../../events/service.events.ts";
import { decideService, foldService } from "../../machines/service/service.decide.ts";
import { MAX_SERVICE_DEPLOYMENTS, MAX_SERVICE_REVISIONS } from "../../machines/service/service.machine.ts";
import { serviceCreated } from "../support/service-world.ts";

/** A service's deployments as ECS's service deployments: the history folded from its events. */

const created = serviceCreated({ desiredCount: 2, deploymentConfiguration: { minimumHealthyPercent: 50 } }, 1_000);

const started = (id: string, at: number, extra: { rollbackOf?: string; reason?: string; revision?: string } = {}): ServiceEvent => ({
  type: "DeploymentStarted",
  at,
  deployment: {
    id,
    taskDefinition: `td:${id}`,
    launchType: "EC2",
    ...(extra.rollbackOf ? { rollbackOf: extra.rollbackOf } : {}),
    ...(extra.revision ? { revision: extra.revision } : {}),
  },
  ...(extra.reason ? { reason: extra.reason } : {}),
});
const rollout = (deploymentId: string, at: number, rolloutState: "COMPLETED" | "FAILED", reason = `${deploymentId} ${rolloutState}`): ServiceEvent => ({
  type: "DeploymentRolloutChanged",
  at,
  deploymentId,
  rolloutState,
  reason,
});
const BREAKER = "ECS deployment circuit breaker: tasks failed to start.";

const historyOf = (events: ServiceEvent[]) => foldService([created, ...events]).context.history;

describe("service deployments, folded from a service's events", () => {
  test("CreateService starts the first one, IN_PROGRESS from no source, with the service's deployment configuration", () => {
    const [h] = historyOf([]);
    expect(h).toEqual({ id: "ecs-svc/1", createdAt: 1_000, updatedAt: 1_000, status: "IN_PROGRESS", sources: [], deploymentConfiguration: { minimumHealthyPercent: 50 } });
    expect(foldService([created]).context.revisions).toEqual([{ spec: created.deployment, createdAt: 1_000 }]);
  });

  test("a completed rollout is SUCCESSFUL; the next starts from the deployments running then", () => {
    const history = historyOf([rollout("ecs-svc/1", 2_000, "COMPLETED"), started("ecs-svc/2", 3_000)]);
    expect(history.map((h) => [h.id, h.status, h.finishedAt])).toEqual([
      ["ecs-svc/2", "IN_PROGRESS", undefined],
      ["ecs-svc/1", "SUCCESSFUL", 2_000],
    ]);
    expect(history[0]?.sources).toEqual(["ecs-svc/1"]);
  });

  test("a deployment replaced before it finished is STOPPED, and the new one starts from both", () => {
    const history = historyOf([started("ecs-svc/2", 2_000), started("ecs-svc/3", 3_000)]);
    expect(history.map((h) => h.status)).toEqual(["IN_PROGRESS", "STOPPED", "STOPPED"]);
    expect(history[1]).toMatchObject({ id: "ecs-svc/2", stoppedAt: 3_000, finishedAt: 3_000, statusReason: "Service deployment ecs-svc/3 started before it finished." });
    expect(history[0]?.sources).toEqual(["ecs-svc/2", "ecs-svc/1"]);
  });

  test("failed by the circuit breaker without rollback: STOPPED, with the breaker's reason", () => {
    const [h] = historyOf([rollout("ecs-svc/1", 2_000, "COMPLETED"), started("ecs-svc/2", 3_000), rollout("ecs-svc/2", 4_000, "FAILED", BREAKER)]);
    expect(h).toMatchObject({ id: "ecs-svc/2", status: "STOPPED", statusReason: BREAKER, stoppedAt: 4_000, finishedAt: 4_000 });
  });

  test("rolled back: the failed one is ROLLBACK_IN_PROGRESS, then ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED with its rollback's outcome; the rollback is no service deployment of its own", () => {
    const before = [rollout("ecs-svc/1", 2_000, "COMPLETED"), started("ecs-svc/2", 3_000), rollout("ecs-svc/2", 4_000, "FAILED", BREAKER)];
    const rolling = historyOf([...before, started("ecs-svc/9", 4_000, { rollbackOf: "ecs-svc/2", reason: BREAKER })]);
    expect(rolling.map((h) => h.id)).toEqual(["ecs-svc/2", "ecs-svc/1"]);
    expect(rolling[0]).toMatchObject({ status: "ROLLBACK_IN_PROGRESS", rollback: { reason: BREAKER, startedAt: 4_000, deploymentId: "ecs-svc/9" } });
    expect(rolling[0]?.finishedAt).toBeUndefined();
    expect(rolling[0]?.stoppedAt).toBeUndefined();

    const ok = historyOf([...before, started("ecs-svc/9", 4_000, { rollbackOf: "ecs-svc/2", reason: BREAKER }), rollout("ecs-svc/9", 5_000, "COMPLETED")]);
    expect(ok[0]).toMatchObject({ status: "ROLLBACK_SUCCESSFUL", finishedAt: 5_000, statusReason: BREAKER });
    const failed = historyOf([...before, started("ecs-svc/9", 4_000, { rollbackOf: "ecs-svc/2", reason: BREAKER }), rollout("ecs-svc/9", 5_000, "FAILED", "the rollback failed too")]);
    expect(failed[0]).toMatchObject({ status: "ROLLBACK_FAILED", finishedAt: 5_000, statusReason: "the rollback failed too" });
    // A rollback runs the revision it rolls back to: no new revision (ECS); the next deployment
    // starts from that revision.
    const back = started("ecs-svc/9", 4_000, { rollbackOf: "ecs-svc/2", revision: "ecs-svc/1" });
    const after = foldService([created, ...before, back, rollout("ecs-svc/9", 5_000, "COMPLETED"), started("ecs-svc/10", 6_000)]).context;
    expect(after.revisions.map((r) => r.spec.id)).toEqual(["ecs-svc/10", "ecs-svc/2", "ecs-svc/1"]);
    expect(after.history.find((h) => h.id === "ecs-svc/2")?.rollback).toMatchObject({ deploymentId: "ecs-svc/9", revision: "ecs-svc/1" });
    // (ecs-svc/9 and ecs-svc/1 run one revision; ecs-svc/2 is not retired in these events.)
    expect(after.history[0]).toMatchObject({ id: "ecs-svc/10", sources: ["ecs-svc/1", "ecs-svc/2"] });
    // Logs written before rollbacks named their revision: the rollback had one of its own.
    expect(foldService([created, ...before, started("ecs-svc/9", 4_000, { rollbackOf: "ecs-svc/2" })]).context.revisions.map((r) => r.spec.id)).toEqual([
      "ecs-svc/9",
      "ecs-svc/2",
      "ecs-svc/1",
    ]);
  });

  test("deleting the service deletes its service deployments and revisions (ECS)", () => {
    const s = foldService([created, { type: "ServiceDeleted", at: 2_000, force: true }]);
    expect(s.context.history).toEqual([]);
    expect(s.context.revisions).toEqual([]);
  });

  test("the newest are kept: at most MAX_SERVICE_DEPLOYMENTS service deployments and MAX_SERVICE_REVISIONS revisions", () => {
    const events: ServiceEvent[] = [];
    for (let i = 2; i <= 3 * MAX_SERVICE_DEPLOYMENTS; i++) events.push(started(`ecs-svc/${i}`, 1_000 + i));
    const s = foldService([created, ...events]);
    expect(s.context.history).toHaveLength(MAX_SERVICE_DEPLOYMENTS);
    expect(s.context.history[0]?.id).toBe(`ecs-svc/${3 * MAX_SERVICE_DEPLOYMENTS}`);
    expect(s.context.revisions).toHaveLength(MAX_SERVICE_REVISIONS);
  });

  test("UpdateService's settings and the deployment they come with are one event, folded as the two older logs hold", () => {
    const before = [rollout("ecs-svc/1", 2_000, "COMPLETED")];
    const settings = { desiredCount: 5, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 150 } };
    const deployment = { id: "ecs-svc/2", taskDefinition: "td:2", launchType: "EC2" as const };
    const d = decideService({ type: "UpdateService", at: 3_000, settings, deployment }, foldService([created, ...before]));
    const events = d.ok ? d.events : [];
    expect(events).toEqual([{ type: "DeploymentStarted", at: 3_000, deployment, settings }]);
    const two: ServiceEvent[] = [
      { type: "ServiceSettingsChanged", at: 3_000, settings },
      { type: "DeploymentStarted", at: 3_000, deployment },
    ];
    const after = foldService([created, ...before, ...events]).context;
    expect(after).toEqual(foldService([created, ...before, ...two]).context);
    expect(after.settings.desiredCount).toBe(5);
    // Its service deployment records the configuration the update set.
    expect(after.history[0]).toMatchObject({ id: "ecs-svc/2", deploymentConfiguration: { maximumPercent: 150 } });
    // Settings alone, or a deployment alone, are one event each as before; nothing to change, none.
    const only = (c: { settings: typeof settings | Record<string, never>; deployment?: typeof deployment }) => {
      const r = decideService({ type: "UpdateService", at: 3_000, ...c }, foldService([created, ...before]));
      return r.ok ? r.events.map((e) => e.type) : [];
    };
    expect(only({ settings })).toEqual(["ServiceSettingsChanged"]);
    expect(only({ settings: {}, deployment })).toEqual(["DeploymentStarted"]);
    expect(only({ settings: {} })).toEqual([]);
  });

  describe("StopServiceDeployment (ROLLBACK)", () => {
    const stop = (events: ServiceEvent[], deploymentId: string) =>
      decideService({ type: "StopServiceDeployment", at: 9_000, deploymentId, rollbackId: "ecs-svc/77" }, foldService([created, ...events]));

    test("one in progress: its rollout FAILED and a rollback to the last completed deployment starts, in one event; it is then ROLLBACK_IN_PROGRESS", () => {
      const before = [rollout("ecs-svc/1", 2_000, "COMPLETED"), started("ecs-svc/2", 3_000)];
      const d = stop(before, "ecs-svc/2");
      expect(d.ok).toBe(true);
      const events = d.ok ? d.events : [];
      // One event: the failure and its rollback are stored together or not at all.
      expect(events).toEqual([
        expect.objectContaining({
          type: "DeploymentRolloutChanged",
          deploymentId: "ecs-svc/2",
          rolloutState: "FAILED",
          rollback: expect.objectContaining({ id: "ecs-svc/77", taskDefinition: "td:1", rollbackOf: "ecs-svc/2", revision: "ecs-svc/1" }),
        }),
      ]);
      const after = foldService([created, ...before, ...events]).context;
      expect(after.history[0]).toMatchObject({ id: "ecs-svc/2", status: "ROLLBACK_IN_PROGRESS", rollback: { deploymentId: "ecs-svc/77", startedAt: 9_000 } });
      expect(after.deployments[0]?.id).toBe("ecs-svc/77");
      // Asked again while it rolls back: nothing more to do.
      expect(decideService({ type: "StopServiceDeployment", at: 9_500, deploymentId: "ecs-svc/2", rollbackId: "ecs-svc/78" }, foldService([created, ...before, ...events]))).toEqual({ ok: true, events: [] });
    });

    test("with no deployment completed yet, the one it replaced is the previous revision", () => {
      const d = stop([started("ecs-svc/2", 3_000)], "ecs-svc/2");
      expect(d.ok && d.events[0]).toMatchObject({ rollback: { taskDefinition: "td:1", rollbackOf: "ecs-svc/2" } });
    });

    test("a failure and its rollback fold the same from one event as from the two older logs hold", () => {
      const before = [rollout("ecs-svc/1", 2_000, "COMPLETED"), started("ecs-svc/2", 3_000)];
      const d = stop(before, "ecs-svc/2");
      const [one] = d.ok ? d.events : [];
      if (one?.type !== "DeploymentRolloutChanged" || !one.rollback) throw new Error("expected a rollout with its rollback");
      const { rollback, ...failure } = one;
      const two: ServiceEvent[] = [failure, { type: "DeploymentStarted", at: one.at, deployment: rollback, reason: one.reason }];
      expect(foldService([created, ...before, one]).context).toEqual(foldService([created, ...before, ...two]).context);
      // A service no longer ACTIVE starts no rollback.
      const deleted: ServiceEvent = { type: "ServiceDeleted", at: 8_000, force: true };
      expect(foldService([created, ...before, deleted, one]).context.deployments.map((x) => x.id)).toEqual(["ecs-svc/2", "ecs-svc/1"]);
    });

    test("refused: a service's first deployment (nothing to roll back to), one that finished, one that does not exist", () => {
      expect(stop([], "ecs-svc/1")).toMatchObject({ ok: false, rejection: { code: "InvalidParameterException" } });
      expect(stop([rollout("ecs-svc/1", 2_000, "COMPLETED")], "ecs-svc/1")).toMatchObject({ ok: false, rejection: { code: "ConflictException" } });
      expect(stop([], "ecs-svc/5")).toMatchObject({ ok: false, rejection: { code: "ServiceDeploymentNotFoundException" } });
    });
  });
});
