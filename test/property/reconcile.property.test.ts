import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { NO_HEALTH_CHECK_WAIT_MS, type ServiceTaskView } from "../../machines/service/service.reconcile.ts";
import { deploy, reconcileOnce, serviceContext, World } from "../support/service-world.ts";

/**
 * Properties of the pure service reconcile, run against the simulated world:
 *  - from any starting set of tasks it converges to exactly `desired` RUNNING tasks of the primary
 *    deployment in a bounded number of rounds;
 *  - during a rolling deployment, RUNNING tasks that are not being stopped, and among them those that
 *    count as healthy (HEALTHY, or 40 s after RUNNING with no health check), never drop below ceil(desired × min%)
 *    (or what there was), and tasks that occupy the service never exceed max(desired, floor(desired × max%));
 *  - tasks that fail their health checks are replaced: while maximumPercent leaves room, before
 *    they stop (the service keeps its desired count of running tasks), and it ends at its desired
 *    count of healthy tasks;
 *  - during a rollout whose new tasks never start, old tasks that die are replaced from the old
 *    deployment: it keeps at least what minimumHealthyPercent holds.
 */
describe("reconcile properties", () => {
  test("converges to the desired count from any state, in bounded rounds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.constantFrom("RUNNING", "PENDING", "STOPPED"), { maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (desired, initial, failures) => {
          const w = new World(serviceContext(desired));
          for (const st of initial) w.add("ecs-svc/1", st as "RUNNING");
          let round = 0;
          // Failures only in the first rounds: after that the world is well-behaved.
          for (; round < 30; round++) {
            const plan = reconcileOnce(w);
            if (plan.place.length === 0 && plan.stop.length === 0 && w.running("ecs-svc/1") === desired && w.occupying() === desired) break;
            w.apply(plan);
            w.step(() => round < 5 && failures[round % failures.length] === true);
            w.now += 60_000; // past any launch throttle
          }
          expect(w.running("ecs-svc/1")).toBe(desired);
          expect(w.occupying()).toBe(desired);
          expect(round).toBeLessThan(30);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("after a FAILED deployment without rollback, the one before it brings the service back to its desired count and the FAILED one places nothing", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.constantFrom("RUNNING", "PENDING", "STOPPED"), { maxLength: 15 }),
        fc.array(fc.constantFrom("RUNNING", "STOPPED"), { maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (desired, old, failing, failures) => {
          const w = new World(serviceContext(desired));
          for (const st of old) w.add("ecs-svc/1", st as "RUNNING");
          w.service = {
            ...w.service,
            deployments: [
              { id: "ecs-svc/2", taskDefinition: "td:2", launchType: "EC2", rolloutState: "FAILED", rolloutStateReason: "", createdAt: 0, updatedAt: 0 },
              { ...w.service.deployments[0]!, rolloutState: "COMPLETED" },
            ],
          };
          for (const st of failing) w.add("ecs-svc/2", st as "RUNNING");
          const current = () => w.tasks.filter((t) => t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED");
          let round = 0;
          for (; round < 30; round++) {
            const plan = reconcileOnce(w);
            expect(plan.place.every((p) => p.deploymentId === "ecs-svc/1")).toBe(true);
            if (plan.place.length === 0 && plan.stop.length === 0 && current().length === desired && current().every((t) => t.lastStatus === "RUNNING")) break;
            w.apply(plan);
            w.step(() => round < 5 && failures[round % failures.length] === true);
            w.now += 60_000; // past any launch throttle
          }
          expect(current().length).toBe(desired);
          expect(round).toBeLessThan(30);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("a rolling deployment respects minimumHealthyPercent and maximumPercent at every step", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 100, max: 200 }),
        fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
        (desired, min, max, healthyAfterMs) => {
          const w = new World(serviceContext(desired, min, max));
          for (let i = 0; i < desired; i++) w.add("ecs-svc/1");
          // The new task definition's tasks have a health check that passes this long after they start, or none.
          w.healthyAfterMs = healthyAfterMs;
          deploy(w, "ecs-svc/2");
          const minHealthy = Math.ceil((desired * min) / 100);
          const maxTotal = Math.max(desired, Math.floor((desired * max) / 100));
          // Ten seconds a round: a new task counts as healthy four rounds after it starts.
          w.tick = 10_000;
          let completed = false;
          for (let round = 0; round < 120 && !completed; round++) {
            const plan = reconcileOnce(w);
            completed = plan.rollout.some((r) => r.rolloutState === "COMPLETED");
            const stopping = new Set(plan.stop.map((s) => s.taskArn));
            const running = (t: ServiceTaskView) => t.lastStatus === "RUNNING" && t.desiredStatus === "RUNNING";
            const counted = (t: ServiceTaskView) =>
              running(t) && (t.hasHealthCheck ? t.health === "HEALTHY" : w.now - (t.startedAt as number) >= NO_HEALTH_CHECK_WAIT_MS);
            const runningAfter = w.tasks.filter((t) => running(t) && !stopping.has(t.taskArn)).length;
            expect(runningAfter).toBeGreaterThanOrEqual(Math.min(minHealthy, w.running()));
            const countedBefore = w.tasks.filter(counted).length;
            const countedAfter = w.tasks.filter((t) => counted(t) && !stopping.has(t.taskArn)).length;
            expect(countedAfter).toBeGreaterThanOrEqual(Math.min(minHealthy, countedBefore));
            w.apply(plan);
            expect(w.occupying()).toBeLessThanOrEqual(maxTotal);
            w.step();
          }
          // A configuration that allows neither a start nor a stop (e.g. max 100 with min 100) never progresses; any other completes.
          const canMove = maxTotal > desired || minHealthy < desired;
          if (canMove) {
            expect(completed).toBe(true);
            expect(w.running("ecs-svc/2")).toBe(desired);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test("unhealthy tasks are replaced before they stop while maximumPercent leaves room, and the service ends healthy at its desired count", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 100, max: 200 }),
        fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 12 }),
        (desired, min, max, sickening) => {
          const w = new World(serviceContext(desired, min, max));
          w.healthyAfterMs = 10_000;
          w.tick = 5_000;
          for (let i = 0; i < desired; i++) Object.assign(w.add("ecs-svc/1"), { hasHealthCheck: true, health: "HEALTHY" });
          const maxTotal = Math.max(desired, Math.floor((desired * max) / 100));
          const running = (t: ServiceTaskView) => t.lastStatus === "RUNNING" && t.desiredStatus === "RUNNING";
          const checked = (t: ServiceTaskView) => running(t) && t.health !== "UNKNOWN";
          for (let round = 0; round < 80; round++) {
            // The first rounds make some healthy tasks fail their health checks.
            const healthy = w.tasks.filter((t) => running(t) && t.health === "HEALTHY");
            for (const i of sickening[round] ?? []) if (healthy.length > 0) (healthy[i % healthy.length] as ServiceTaskView).health = "UNHEALTHY";
            const plan = reconcileOnce(w);
            const stopping = new Set(plan.stop.map((s) => s.taskArn));
            // The desired count never changes: only unhealthy tasks are stopped.
            for (const t of w.tasks) if (stopping.has(t.taskArn)) expect(t.health).toBe("UNHEALTHY");
            if (maxTotal > desired) {
              const before = w.tasks.filter(checked).length;
              const after = w.tasks.filter((t) => checked(t) && !stopping.has(t.taskArn)).length;
              expect(after).toBeGreaterThanOrEqual(Math.min(desired, before));
            }
            w.apply(plan);
            expect(w.occupying()).toBeLessThanOrEqual(maxTotal);
            w.step();
          }
          expect(w.tasks.filter((t) => running(t) && t.health === "HEALTHY").length).toBe(desired);
          expect(w.occupying()).toBe(desired);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("during a rollout whose new tasks never start, old tasks that die are replaced from their own deployment", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 100, max: 200 }),
        fc.array(fc.array(fc.nat(), { maxLength: 2 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (desired, min, max, kills, startsThenExits) => {
          const w = new World(serviceContext(desired, min, max));
          for (let i = 0; i < desired; i++) w.add("ecs-svc/1");
          w.now += 60_000;
          deploy(w, "ecs-svc/2");
          const maxTotal = Math.max(desired, Math.floor((desired * max) / 100));
          const minHealthy = Math.ceil((desired * min) / 100);
          let completed = false;
          const liveOld = () => w.tasks.filter((t) => t.deploymentId === "ecs-svc/1" && t.desiredStatus === "RUNNING" && t.lastStatus === "RUNNING");
          for (let round = 0; round < 60; round++) {
            // The first rounds kill some running old tasks (their container exits).
            for (const i of kills[round] ?? []) {
              const running = liveOld();
              if (running.length > 0)
                Object.assign(running[i % running.length] as ServiceTaskView, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: w.now, stopCode: "EssentialContainerExited" });
            }
            const plan = reconcileOnce(w);
            completed ||= plan.rollout.some((r) => r.rolloutState === "COMPLETED");
            w.apply(plan);
            expect(w.occupying()).toBeLessThanOrEqual(maxTotal);
            // The new tasks fail to start (and are throttled), or run for a second, seen RUNNING
            // by one reconcile, and exit (and are not throttled).
            if (startsThenExits)
              for (const t of w.tasks)
                if (t.deploymentId === "ecs-svc/2" && t.lastStatus === "RUNNING")
                  Object.assign(t, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: w.now, stopCode: "EssentialContainerExited" });
            w.step((t) => !startsThenExits && t.deploymentId === "ecs-svc/2");
          }
          expect(liveOld().length).toBeGreaterThanOrEqual(minHealthy);
          // Tasks that ran for a moment never complete the rollout.
          expect(completed).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
