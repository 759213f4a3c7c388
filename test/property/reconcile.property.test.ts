import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { reconcileOnce, serviceContext, World } from "../support/service-world.ts";

/**
 * Properties of the pure service reconcile, run against the simulated world:
 *  - from any starting set of tasks it converges to exactly `desired` RUNNING tasks of the primary
 *    deployment in a bounded number of rounds;
 *  - during a rolling deployment, RUNNING tasks that are not being stopped never drop below
 *    ceil(desired × min%) and tasks that occupy the service never exceed max(desired, floor(desired × max%)).
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

  test("a rolling deployment respects minimumHealthyPercent and maximumPercent at every step", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 100, max: 200 }),
        (desired, min, max) => {
          const w = new World(serviceContext(desired, min, max));
          for (let i = 0; i < desired; i++) w.add("ecs-svc/1");
          w.service = {
            ...w.service,
            deployments: [
              { id: "ecs-svc/2", taskDefinition: "td:2", launchType: "EC2", rolloutState: "IN_PROGRESS", rolloutStateReason: "", createdAt: 0, updatedAt: 0 },
              ...w.service.deployments,
            ],
          };
          const minHealthy = Math.ceil((desired * min) / 100);
          const maxTotal = Math.max(desired, Math.floor((desired * max) / 100));
          let completed = false;
          for (let round = 0; round < 40 && !completed; round++) {
            const plan = reconcileOnce(w);
            completed = plan.rollout.some((r) => r.rolloutState === "COMPLETED");
            const stopping = new Set(plan.stop.map((s) => s.taskArn));
            const healthyAfter = w.tasks.filter((t) => t.lastStatus === "RUNNING" && t.desiredStatus === "RUNNING" && !stopping.has(t.taskArn)).length;
            expect(healthyAfter).toBeGreaterThanOrEqual(Math.min(minHealthy, w.running()));
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
});
