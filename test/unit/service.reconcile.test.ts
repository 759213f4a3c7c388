import { describe, expect, test } from "vitest";
import {
  breakerThreshold,
  failedTaskCount,
  NO_HEALTH_CHECK_WAIT_MS,
  reconcile,
  type ServiceTaskView,
  throttleUntil,
  UNHEALTHY_STOP_REASON,
} from "../../machines/service/service.reconcile.ts";
import { deploy, reconcileOnce, serviceContext, World } from "../support/service-world.ts";


/** A RUNNING task of `deploymentId` with a health check, HEALTHY. */
function healthChecked(w: World, deploymentId = "ecs-svc/1"): ServiceTaskView {
  const t = w.add(deploymentId);
  t.hasHealthCheck = true;
  t.health = "HEALTHY";
  return t;
}

describe("service reconcile", () => {
  test("a new service places its desired count", () => {
    const w = new World(serviceContext(3));
    expect(reconcileOnce(w).place).toEqual([{ deploymentId: "ecs-svc/1", count: 3 }]);
  });

  test("a stopped task is replaced; running extras are stopped, PENDING ones first", () => {
    const w = new World(serviceContext(2));
    w.add("ecs-svc/1");
    const stopped = w.add("ecs-svc/1");
    stopped.lastStatus = "STOPPED";
    expect(reconcileOnce(w).place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
    const v = new World(serviceContext(1));
    v.add("ecs-svc/1");
    const pending = v.add("ecs-svc/1", "PENDING");
    expect(reconcileOnce(v).stop.map((s) => s.taskArn)).toEqual([pending.taskArn]);
  });

  test("scaled in, the service is steady once the task it stopped has stopped, not while it is stopping", () => {
    const w = new World(serviceContext(2));
    w.service = { ...w.service, deployments: [{ ...w.service.deployments[0]!, rolloutState: "COMPLETED" }] };
    w.add("ecs-svc/1");
    w.add("ecs-svc/1");
    const extra = w.add("ecs-svc/1");
    extra.desiredStatus = "STOPPED";
    const steady = (plan: ReturnType<typeof reconcileOnce>) => plan.messages.some((m) => m.key === "steady");
    expect(steady(reconcileOnce(w))).toBe(false);
    extra.lastStatus = "STOPPED";
    expect(steady(reconcileOnce(w))).toBe(true);
  });

  test("ECS's bound examples: desired 4, min 50 may stop 2 first; desired 2, min 75 can stop none of the old", () => {
    const w = new World(serviceContext(4, 50, 100));
    for (let i = 0; i < 4; i++) w.add("ecs-svc/1");
    deploy(w, "ecs-svc/2");
    const plan = reconcileOnce(w);
    expect(plan.place).toEqual([]); // max 100: no room until old tasks go
    expect(plan.stop).toHaveLength(2);

    const v = new World(serviceContext(2, 75, 100));
    v.add("ecs-svc/1");
    v.add("ecs-svc/1");
    deploy(v, "ecs-svc/2");
    const stuck = reconcileOnce(v);
    expect(stuck.stop).toHaveLength(0);
    expect(stuck.place).toHaveLength(0);
    expect(stuck.messages.map((m) => m.key)).toContain("deployment-config");
  });

  test("desired 4, max 200 may start 4 new before stopping old", () => {
    const w = new World(serviceContext(4, 100, 200));
    for (let i = 0; i < 4; i++) w.add("ecs-svc/1");
    deploy(w, "ecs-svc/2");
    const plan = reconcileOnce(w);
    expect(plan.place).toEqual([{ deploymentId: "ecs-svc/2", count: 4 }]);
    expect(plan.stop).toHaveLength(0);
  });

  test("the rollout completes once the new deployment is healthy at full count, and the old one is retired", () => {
    const w = new World(serviceContext(2));
    w.service = { ...w.service, deployments: [{ ...w.service.deployments[0]!, rolloutState: "COMPLETED" }] };
    w.add("ecs-svc/1");
    w.add("ecs-svc/1");
    deploy(w, "ecs-svc/2");
    w.tick = 10_000;
    for (let round = 0; round < 10; round++) {
      const plan = reconcileOnce(w);
      if (plan.rollout.some((r) => r.rolloutState === "COMPLETED")) {
        expect(plan.retire).toEqual(["ecs-svc/1"]);
        expect(w.running("ecs-svc/2")).toBe(2);
        return;
      }
      w.apply(plan);
      w.step();
    }
    throw new Error("rollout never completed");
  });

  describe("when a new task counts toward minimumHealthyPercent (ECS)", () => {
    /** Desired 2, min 100, max 200: two old tasks, a deployment placed, its tasks just RUNNING. */
    function rolled(o: { healthCheck?: boolean } = {}) {
      const w = new World(serviceContext(2, 100, 200));
      const old = [w.add("ecs-svc/1"), w.add("ecs-svc/1")];
      w.now += 60_000;
      deploy(w, "ecs-svc/2");
      w.apply(reconcileOnce(w));
      for (const t of w.tasks) if (t.deploymentId === "ecs-svc/2") t.hasHealthCheck = o.healthCheck ?? false;
      w.step();
      expect(w.running("ecs-svc/2")).toBe(2);
      return { w, old: old.map((t) => t.taskArn) };
    }
    const stopped = (w: World, o: Partial<Parameters<World["input"]>[0]> = {}) => reconcile(w.input(o)).stop.map((s) => s.taskArn);

    test("without a health check: 40 s after RUNNING; the old tasks wait for it, and a wake-up is asked for then", () => {
      const { w, old } = rolled();
      const startedAt = w.now;
      const first = reconcileOnce(w);
      expect(first.stop).toEqual([]);
      expect(first.retryAt).toBe(startedAt + NO_HEALTH_CHECK_WAIT_MS);
      w.now = startedAt + NO_HEALTH_CHECK_WAIT_MS - 1;
      expect(stopped(w)).toEqual([]);
      w.now = startedAt + NO_HEALTH_CHECK_WAIT_MS;
      expect(stopped(w).sort()).toEqual([...old].sort());
    });

    test("the wait is the server's setting", () => {
      const { w, old } = rolled();
      expect(stopped(w, { noHealthCheckWaitMs: 0 }).sort()).toEqual([...old].sort());
      w.now += 5_000;
      expect(stopped(w, { noHealthCheckWaitMs: 10_000 })).toEqual([]);
      expect(stopped(w, { noHealthCheckWaitMs: 5_000 }).sort()).toEqual([...old].sort());
    });

    test("with a health check: once HEALTHY, at once; not while its health is UNKNOWN", () => {
      const { w, old } = rolled({ healthCheck: true });
      expect(stopped(w)).toEqual([]);
      for (const t of w.tasks) if (t.deploymentId === "ecs-svc/2") t.health = "HEALTHY";
      expect(stopped(w).sort()).toEqual([...old].sort());
    });

    test("old tasks still waiting to count are not stopped freely: a second deployment waits for the first's tasks to be replaced by counted ones", () => {
      const { w } = rolled();
      deploy(w, "ecs-svc/3");
      const plan = reconcileOnce(w);
      // Room for two of the newest; none of the four running tasks stops, counted or not.
      expect(plan.stop).toEqual([]);
      expect(plan.place).toEqual([]);
      expect(plan.retryAt).toBe(w.now + NO_HEALTH_CHECK_WAIT_MS);
      // Not running (PENDING) is not serving: such a leaving task stops freely.
      const pending = w.add("ecs-svc/2", "PENDING");
      expect(stopped(w)).toContain(pending.taskArn);
    });
  });

  test("scale-in and deployments leave protected tasks alone until their protection expires", () => {
    const w = new World(serviceContext(1));
    const a = w.add("ecs-svc/1");
    const b = w.add("ecs-svc/1");
    a.protectedUntil = w.now + 60_000;
    b.protectedUntil = w.now + 30_000;
    const plan = reconcileOnce(w);
    expect(plan.stop).toEqual([]);
    expect(plan.retryAt).toBe(w.now + 30_000);
    b.protectedUntil = undefined;
    expect(reconcileOnce(w).stop.map((s) => s.taskArn)).toEqual([b.taskArn]);
  });

  test("an unhealthy task is replaced first and stops once its replacement is healthy; not before the grace period ends", () => {
    const w = new World(serviceContext(2, 100, 200, { healthCheckGracePeriodSeconds: 60 }));
    w.healthyAfterMs = 3_000;
    const [sick, fine] = [healthChecked(w), healthChecked(w)];
    sick.startedAt = w.now;
    fine.startedAt = w.now;
    sick.health = "UNHEALTHY";
    // Within the grace period: nothing, and a wake-up when it ends.
    expect(reconcileOnce(w)).toMatchObject({ place: [], stop: [], retryAt: w.now + 60_000 });
    w.now += 61_000;
    const first = reconcileOnce(w);
    expect(first.place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
    expect(first.stop).toEqual([]);
    w.apply(first);
    w.step(); // the replacement RUNNING, not yet HEALTHY: the unhealthy task stays
    expect(reconcileOnce(w)).toMatchObject({ place: [], stop: [] });
    w.step();
    w.step();
    w.step(); // HEALTHY
    expect(reconcileOnce(w).stop).toEqual([{ taskArn: sick.taskArn, reason: UNHEALTHY_STOP_REASON }]);
    expect(fine.desiredStatus).toBe("RUNNING");
  });

  test("replacements for unhealthy tasks start within maximumPercent", () => {
    const w = new World(serviceContext(4, 100, 150));
    w.healthyAfterMs = 0;
    const tasks = [healthChecked(w), healthChecked(w), healthChecked(w), healthChecked(w)];
    for (const t of tasks.slice(0, 3)) t.health = "UNHEALTHY";
    // max 150 of 4 is 6: room for two replacements beside the four that occupy.
    expect(reconcileOnce(w)).toMatchObject({ place: [{ deploymentId: "ecs-svc/1", count: 2 }], stop: [] });
  });

  test("with no room under maximumPercent, unhealthy tasks stop one at a time, each replaced before the next", () => {
    const w = new World(serviceContext(2, 50, 100));
    w.healthyAfterMs = 0;
    const [a, b] = [healthChecked(w), healthChecked(w)];
    a.health = "UNHEALTHY";
    b.health = "UNHEALTHY";
    a.startedAt = w.now - 2_000; // started first: goes first
    b.startedAt = w.now - 1_000;
    const first = reconcileOnce(w);
    expect(first).toMatchObject({ place: [], stop: [{ taskArn: a.taskArn, reason: UNHEALTHY_STOP_REASON }] });
    w.apply(first);
    // a is stopping: nothing else moves meanwhile.
    expect(reconcileOnce(w)).toMatchObject({ place: [], stop: [] });
    w.step();
    const second = reconcileOnce(w);
    expect(second).toMatchObject({ place: [{ deploymentId: "ecs-svc/1", count: 1 }], stop: [] });
    w.apply(second);
    expect(reconcileOnce(w)).toMatchObject({ place: [], stop: [] }); // the replacement is PENDING
    w.step();
    w.step(); // RUNNING, then HEALTHY; b is replaced the same way
    expect(reconcileOnce(w).stop).toEqual([{ taskArn: b.taskArn, reason: UNHEALTHY_STOP_REASON }]);
  });

  test("unhealthy tasks of an old deployment, of a FAILED one and of a daemon stop at once; a FAILED deployment's fallback replaces its own first", () => {
    const w = new World(serviceContext(2, 50, 200));
    w.healthyAfterMs = 0;
    const old = healthChecked(w);
    healthChecked(w);
    old.health = "UNHEALTHY";
    deploy(w, "ecs-svc/2");
    expect(reconcileOnce(w).stop).toContainEqual({ taskArn: old.taskArn, reason: UNHEALTHY_STOP_REASON });

    const v = new World(serviceContext(2, 50, 200));
    v.healthyAfterMs = 0;
    const kept = healthChecked(v);
    healthChecked(v);
    deploy(v, "ecs-svc/2", { rolloutState: "FAILED" });
    const bad = healthChecked(v, "ecs-svc/2");
    bad.health = "UNHEALTHY";
    kept.health = "UNHEALTHY";
    const plan = reconcileOnce(v);
    expect(plan.stop).toEqual([{ taskArn: bad.taskArn, reason: UNHEALTHY_STOP_REASON }]);
    expect(plan.place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);

    const d = new World({ ...serviceContext(0), schedulingStrategy: "DAEMON" as const });
    const daemonTask = healthChecked(d);
    daemonTask.health = "UNHEALTHY";
    expect(reconcileOnce(d, { daemonInstances: [daemonTask.instanceId!] }).stop).toEqual([
      { taskArn: daemonTask.taskArn, reason: UNHEALTHY_STOP_REASON },
    ]);
  });

  test("the circuit breaker counts tasks stopped for failing health checks, and they do not reset it", () => {
    const w = new World(serviceContext(2));
    w.now = 1_000_000;
    const stoppedSick = (at: number) => {
      const t = healthChecked(w, "ecs-svc/1");
      Object.assign(t, { startedAt: at - 30_000, lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: at, health: "UNHEALTHY", stopCode: "ServiceSchedulerInitiated", stoppedReason: UNHEALTHY_STOP_REASON });
      return t;
    };
    stoppedSick(w.now - 20_000);
    stoppedSick(w.now - 10_000);
    expect(failedTaskCount({ id: "ecs-svc/1" }, w.tasks, w.now)).toBe(2);
    // A task HEALTHY and running stably since after them resets the count.
    healthChecked(w, "ecs-svc/1").startedAt = w.now - 12_000;
    expect(failedTaskCount({ id: "ecs-svc/1" }, w.tasks, w.now)).toBe(0);
  });

  describe("during a rollout, an old deployment replaces its own tasks that stop for a reason of their own", () => {
    /** Desired 4 (min 50, max 200) on ecs-svc/1; ecs-svc/2 rolling out, its tasks failing to start (throttled). */
    function stalled() {
      const w = new World(serviceContext(4, 50, 200));
      const old = Array.from({ length: 4 }, () => w.add("ecs-svc/1"));
      w.now += 60_000;
      deploy(w, "ecs-svc/2");
      for (let i = 0; i < 3; i++) Object.assign(w.add("ecs-svc/2", "STOPPED"), { desiredStatus: "STOPPED", stopCode: "TaskFailedToStart", stoppedAt: w.now });
      // The rollout stopped two old tasks (min 50 allows it).
      for (const t of old.slice(0, 2)) Object.assign(t, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: w.now, stopCode: "ServiceSchedulerInitiated", stoppedReason: "Scaling activity initiated by (deployment ecs-svc/2)" });
      return { w, old };
    }

    test("what the rollout stopped is not replaced", () => {
      const { w } = stalled();
      expect(reconcileOnce(w).place).toEqual([]);
    });

    test("an old task whose container exited is replaced from the old deployment, once", () => {
      const { w, old } = stalled();
      Object.assign(old[2]!, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: w.now, stopCode: "EssentialContainerExited" });
      expect(reconcileOnce(w).place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
      const slot = { taskId: "x", deploymentId: "ecs-svc/1", instanceId: "i0", instanceArn: "a", at: w.now };
      expect(reconcileOnce(w, { pendingSlots: [slot] }).place).toEqual([]);
      // The replacement starting is not stopped by the rollout while the service is short.
      const replacement = w.add("ecs-svc/1", "PENDING");
      const plan = reconcileOnce(w);
      expect(plan.place).toEqual([]);
      expect(plan.stop.map((x) => x.taskArn)).not.toContain(replacement.taskArn);
    });

    test("not while the service has its desired count serving", () => {
      const { w, old } = stalled();
      for (let i = 0; i < 4; i++) w.add("ecs-svc/2");
      Object.assign(old[2]!, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: w.now, stopCode: "EssentialContainerExited" });
      expect(reconcileOnce(w).place).toEqual([]);
    });

    test("nor past maximumPercent, nor from a FAILED deployment", () => {
      const w = new World(serviceContext(2, 0, 100));
      const old = [w.add("ecs-svc/1"), w.add("ecs-svc/1")];
      w.now += 60_000;
      deploy(w, "ecs-svc/2");
      w.add("ecs-svc/2", "PENDING");
      Object.assign(old[0]!, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: w.now, stopCode: "EssentialContainerExited" });
      // Occupying: the old task left and the new one starting, max 100 of 2: no room.
      expect(reconcileOnce(w).place).toEqual([]);
    });
  });

  test("a rollout completes only once its tasks count as healthy, and asks to be woken then", () => {
    const w = new World(serviceContext(2));
    deploy(w, "ecs-svc/2");
    const a = w.add("ecs-svc/2");
    const b = w.add("ecs-svc/2");
    a.startedAt = w.now - 1_000;
    b.startedAt = w.now - 5_000;
    const early = reconcileOnce(w);
    expect(early.rollout).toEqual([]);
    expect(early.retryAt).toBe(b.startedAt + NO_HEALTH_CHECK_WAIT_MS); // the first to count
    w.now = a.startedAt + NO_HEALTH_CHECK_WAIT_MS;
    expect(reconcileOnce(w).rollout).toEqual([expect.objectContaining({ deploymentId: "ecs-svc/2", rolloutState: "COMPLETED" })]);
  });

  test("tasks on a lost instance are written off and replaced", () => {
    const w = new World(serviceContext(1));
    const t = w.add("ecs-svc/1");
    const plan = reconcileOnce(w, { lostInstances: new Set([t.instanceId!]), drainingInstances: new Set([t.instanceId!]) });
    expect(plan.stop.map((s) => s.taskArn)).toEqual([t.taskArn]);
    expect(plan.place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
  });

  test("draining: replacements start first within maximumPercent, then the drained task stops", () => {
    const w = new World(serviceContext(2, 100, 200));
    const a = w.add("ecs-svc/1");
    w.add("ecs-svc/1");
    const draining = new Set([a.instanceId!]);
    const first = reconcileOnce(w, { drainingInstances: draining });
    expect(first.place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
    expect(first.stop).toHaveLength(0);
  });

  test("circuit breaker: threshold as ECS computes it, then FAILED with a rollback to the last completed deployment", () => {
    expect(breakerThreshold(1)).toBe(3);
    expect(breakerThreshold(25)).toBe(13);
    expect(breakerThreshold(800)).toBe(200);
    expect(breakerThreshold(10, { type: "COUNT", value: 2 })).toBe(2);
    const w = new World(serviceContext(2, 100, 200, { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }));
    w.service = { ...w.service, lastCompleted: { id: "ecs-svc/1", taskDefinition: "td:1", launchType: "EC2" } };
    deploy(w, "ecs-svc/2");
    for (let i = 0; i < 3; i++) {
      const t = w.add("ecs-svc/2");
      t.lastStatus = "STOPPED";
      t.stopCode = "EssentialContainerExited";
      t.stoppedAt = w.now;
    }
    expect(failedTaskCount({ id: "ecs-svc/2" }, w.tasks, w.now)).toBe(3);
    const plan = reconcileOnce(w);
    expect(plan.rollout).toEqual([
      expect.objectContaining({ deploymentId: "ecs-svc/2", rolloutState: "FAILED", rollback: expect.objectContaining({ taskDefinition: "td:1", rollbackOf: "ecs-svc/2", revision: "ecs-svc/1" }) }),
    ]);
    // The failing deployment, short of its desired count, launches nothing more in the same plan.
    expect(plan.place).toEqual([]);
    // ECS's service events, as DescribeServices shows them, the failure first.
    expect(plan.messages.map((m) => m.message)).toEqual([
      "(service svc) (deployment ecs-svc/2) deployment failed: tasks failed to start.",
      "(service svc) rolling back to deployment ecs-svc/1.",
    ]);
  });

  test("circuit breaker without rollback: the deployment fails and says so, and nothing rolls back", () => {
    const w = new World(serviceContext(1, 100, 200, { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } } }));
    w.service = { ...w.service, lastCompleted: { id: "ecs-svc/1", taskDefinition: "td:1", launchType: "EC2" } };
    deploy(w, "ecs-svc/2");
    for (let i = 0; i < 3; i++) {
      const t = w.add("ecs-svc/2");
      t.lastStatus = "STOPPED";
      t.stopCode = "TaskFailedToStart";
      t.stoppedAt = w.now;
    }
    const plan = reconcileOnce(w);
    expect(plan.rollout).toEqual([{ deploymentId: "ecs-svc/2", rolloutState: "FAILED", reason: "ECS deployment circuit breaker: tasks failed to start." }]);
    expect(plan.messages.map((m) => m.message)).toEqual(["(service svc) (deployment ecs-svc/2) deployment failed: tasks failed to start."]);
  });

  describe("a FAILED deployment without rollback: the deployment before it keeps the service at its desired count", () => {
    /** Desired 3 on ecs-svc/1 (COMPLETED); ecs-svc/2 FAILED with none of its tasks running. */
    function failedOver(desired = 3) {
      const w = new World(serviceContext(desired));
      w.service = { ...w.service, deployments: [{ ...w.service.deployments[0]!, rolloutState: "COMPLETED" }] };
      const old = Array.from({ length: 3 }, () => w.add("ecs-svc/1"));
      deploy(w, "ecs-svc/2", { rolloutState: "FAILED" });
      return { w, old };
    }

    test("nothing is placed while it is whole, and none of its tasks is stopped", () => {
      const { w } = failedOver();
      const plan = reconcileOnce(w);
      expect(plan.place).toEqual([]);
      expect(plan.stop).toEqual([]);
    });

    test("a task of it that stops is replaced from it, not from the FAILED deployment", () => {
      const { w, old } = failedOver();
      old[0]!.lastStatus = "STOPPED";
      old[0]!.stoppedAt = w.now;
      expect(reconcileOnce(w).place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
      // Its replacement in flight counts: not placed twice.
      expect(reconcileOnce(w, { pendingSlots: [{ taskId: "x", deploymentId: "ecs-svc/1", instanceId: "i0", instanceArn: "a", at: w.now }] }).place).toEqual([]);
    });

    test("when every task of it has stopped, it places them again and is not retired", () => {
      const { w, old } = failedOver();
      for (const t of old) {
        t.lastStatus = "STOPPED";
        t.stoppedAt = w.now;
      }
      const plan = reconcileOnce(w);
      expect(plan.place).toEqual([{ deploymentId: "ecs-svc/1", count: 3 }]);
      expect(plan.retire).toEqual([]);
      const slots = [0, 1, 2].map((i) => ({ taskId: `x${i}`, deploymentId: "ecs-svc/1", instanceId: "i0", instanceArn: "a", at: w.now }));
      const inFlight = reconcileOnce(w, { pendingSlots: slots });
      expect(inFlight.place).toEqual([]);
      expect(inFlight.retire).toEqual([]);
    });

    test("tasks on a draining instance are replaced from it before they stop", () => {
      const { w, old } = failedOver();
      const draining = new Set([old[0]!.instanceId!]);
      const plan = reconcileOnce(w, { drainingInstances: draining });
      expect(plan.place).toEqual([{ deploymentId: "ecs-svc/1", count: 1 }]);
      expect(plan.stop).toEqual([]); // min 100: the drained task waits for its replacement
    });

    test("it follows the desired count down and up", () => {
      const { w } = failedOver();
      w.service = { ...w.service, settings: { ...w.service.settings, desiredCount: 1 } };
      expect(reconcileOnce(w).stop).toHaveLength(2);
      w.service = { ...w.service, settings: { ...w.service.settings, desiredCount: 5 } };
      expect(reconcileOnce(w).place).toEqual([{ deploymentId: "ecs-svc/1", count: 2 }]);
    });

    test("its launches are throttled like any deployment's after tasks of it failed to start", () => {
      const { w, old } = failedOver();
      old[0]!.lastStatus = "STOPPED";
      old[0]!.stoppedAt = w.now;
      w.now += 1_000; // its replacements came after
      for (let i = 0; i < 3; i++) {
        const t = w.add("ecs-svc/1", "PENDING");
        t.lastStatus = "STOPPED";
        t.stoppedAt = w.now;
        t.stopCode = "TaskFailedToStart";
      }
      const plan = reconcileOnce(w);
      expect(plan.place).toEqual([]);
      expect(plan.retryAt).toBe(w.now + 5_000);
      expect(plan.messages.map((m) => m.key)).toContain("throttle");
    });

    test("with no deployment before it, or only FAILED ones, nothing is placed (ECS: a FAILED deployment launches no tasks)", () => {
      const w = new World(serviceContext(2));
      w.service = { ...w.service, deployments: [{ ...w.service.deployments[0]!, rolloutState: "FAILED" }] };
      expect(reconcileOnce(w).place).toEqual([]);
      deploy(w, "ecs-svc/2", { rolloutState: "FAILED" });
      expect(reconcileOnce(w).place).toEqual([]);
    });
  });

  test("launch throttle: after 3 tasks failed to start, the next launch waits, doubling", () => {
    const w = new World(serviceContext(1));
    for (let i = 0; i < 3; i++) {
      const t = w.add("ecs-svc/1", "PENDING");
      t.lastStatus = "STOPPED";
      t.stoppedAt = w.now;
      t.stopCode = "TaskFailedToStart";
    }
    const until = throttleUntil(w.tasks, w.now);
    expect(until).toBe(w.now + 5_000);
    const plan = reconcileOnce(w);
    expect(plan.place).toEqual([]);
    expect(plan.retryAt).toBe(until);
    expect(plan.messages[0]?.message).toBe(
      "(service svc) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
    );
    expect(throttleUntil(w.tasks, w.now + 6_000)).toBeUndefined();
  });

  test("a draining service stops everything and is drained when nothing occupies it", () => {
    const w = new World(serviceContext(2));
    w.add("ecs-svc/1");
    expect(reconcile(w.input({ status: "DRAINING" })).stop).toHaveLength(1);
    w.tasks[0]!.lastStatus = "STOPPED";
    expect(reconcile(w.input({ status: "DRAINING" })).drained).toBe(true);
  });

  test("DAEMON: one task per eligible instance, extras and ineligible ones stopped", () => {
    const svc = { ...serviceContext(0), schedulingStrategy: "DAEMON" as const };
    const w = new World(svc);
    const t = w.add("ecs-svc/1");
    t.instanceId = "gone";
    const plan = reconcileOnce(w, { daemonInstances: ["a", "b"] });
    expect(plan.place).toEqual([{ deploymentId: "ecs-svc/1", count: 2, instanceIds: ["a", "b"] }]);
    expect(plan.stop.map((s) => s.taskArn)).toEqual([t.taskArn]);
  });
});
