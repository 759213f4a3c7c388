import type { ServiceCreated } from "../../events/service.events.ts";
import { foldService } from "../../machines/service/service.decide.ts";
import type { Deployment, ServiceContext } from "../../machines/service/service.machine.ts";
import { type Plan, type ReconcileInput, reconcile, type ServiceTaskView } from "../../machines/service/service.reconcile.ts";

/**
 * A tiny simulated world for the pure reconcile: tasks start (PENDING → RUNNING) and stop
 * (→ STOPPED) when the world steps, so properties can run many reconcile rounds without I/O.
 */
/** A ServiceCreated event of service "svc" in cluster "c", its settings ECS's defaults but for `settings`. */
export function serviceCreated(settings: Partial<ServiceCreated["settings"]> = {}, at = 0): ServiceCreated {
  return {
    type: "ServiceCreated",
    at,
    serviceArn: "arn:aws:ecs:us-east-1:000000000000:service/c/svc",
    serviceName: "svc",
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
    cluster: "c",
    schedulingStrategy: "REPLICA",
    deploymentController: "ECS",
    settings: {
      desiredCount: 0,
      deploymentConfiguration: {},
      placementConstraints: [],
      placementStrategy: [],
      enableECSManagedTags: false,
      propagateTags: "NONE",
      enableExecuteCommand: false,
      loadBalancers: [],
      serviceRegistries: [],
      ...settings,
    },
    deployment: { id: "ecs-svc/1", taskDefinition: "td:1", launchType: "EC2" },
    tags: [],
  };
}

export function serviceContext(desired: number, min = 100, max = 200, extra: Partial<ServiceCreated["settings"]> = {}): ServiceContext {
  const created = serviceCreated({
    desiredCount: desired,
    deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max },
    ...extra,
  });
  return foldService([created]).context;
}

/** How long tasks already RUNNING when a world starts have run: long past any wait to count as healthy. */
const RUNNING_BEFORE_MS = 3_600_000;

export class World {
  tasks: ServiceTaskView[] = [];
  private n = 0;
  now = 1_000;
  /** Time one step() takes. */
  tick = 1_000;
  /** Tasks placed from now on have a health check that passes this long after they start (none: no health check). */
  healthyAfterMs: number | undefined;

  constructor(public service: ServiceContext) {}

  input(overrides: Partial<ReconcileInput> = {}): ReconcileInput {
    return {
      status: "ACTIVE",
      service: this.service,
      tasks: this.tasks,
      pendingSlots: [],
      drainingInstances: new Set(),
      lostInstances: new Set(),
      now: this.now,
      newDeploymentId: `ecs-svc/rb${this.n}`,
      ...overrides,
    };
  }

  add(deploymentId: string, status: ServiceTaskView["lastStatus"] = "RUNNING"): ServiceTaskView {
    const id = `t${++this.n}`;
    const t: ServiceTaskView = {
      taskArn: `arn:task/${id}`,
      taskId: id,
      deploymentId,
      instanceId: `i${this.n % 3}`,
      lastStatus: status,
      desiredStatus: "RUNNING",
      health: "UNKNOWN",
      hasHealthCheck: false,
      createdAt: this.now,
      ...(status === "RUNNING" ? { startedAt: this.now - RUNNING_BEFORE_MS } : {}),
    };
    this.tasks.push(t);
    return t;
  }

  /** Applies a plan the way the shell would: new tasks PENDING, stop requests recorded. */
  apply(plan: Plan) {
    for (const p of plan.place)
      for (let i = 0; i < p.count; i++) this.add(p.deploymentId, "PENDING").hasHealthCheck = this.healthyAfterMs !== undefined;
    for (const s of plan.stop) {
      const t = this.tasks.find((x) => x.taskArn === s.taskArn);
      if (t && t.desiredStatus !== "STOPPED") {
        t.desiredStatus = "STOPPED";
        t.stoppedReason = s.reason;
      }
    }
  }

  /** Time passes: PENDING tasks start (or fail when `fail` says so), stop requests complete. */
  step(fail: (t: ServiceTaskView) => boolean = () => false) {
    this.now += this.tick;
    for (const t of this.tasks) {
      if (t.lastStatus === "STOPPED") continue;
      if (t.desiredStatus === "STOPPED") {
        t.lastStatus = "STOPPED";
        t.stoppedAt = this.now;
        t.stopCode ??= "ServiceSchedulerInitiated";
      } else if (t.lastStatus === "PENDING") {
        if (fail(t)) {
          t.lastStatus = "STOPPED";
          t.desiredStatus = "STOPPED";
          t.stoppedAt = this.now;
          t.stopCode = "TaskFailedToStart";
        } else {
          t.lastStatus = "RUNNING";
          t.startedAt = this.now;
        }
      } else if (t.hasHealthCheck && t.health === "UNKNOWN" && this.now - (t.startedAt as number) >= (this.healthyAfterMs ?? 0)) {
        t.health = "HEALTHY";
      }
    }
  }

  running(deploymentId?: string) {
    return this.tasks.filter((t) => t.lastStatus === "RUNNING" && t.desiredStatus === "RUNNING" && (!deploymentId || t.deploymentId === deploymentId))
      .length;
  }

  occupying() {
    return this.tasks.filter((t) => t.lastStatus !== "STOPPED").length;
  }
}

export function reconcileOnce(w: World, overrides: Partial<ReconcileInput> = {}): Plan {
  return reconcile(w.input(overrides));
}

/** Adds a new PRIMARY deployment to the world's service, IN_PROGRESS from now, as UpdateService does. */
export function deploy(w: World, id: string, extra: Partial<Deployment> = {}) {
  w.service = {
    ...w.service,
    deployments: [
      { id, taskDefinition: `td:${id}`, launchType: "EC2", rolloutState: "IN_PROGRESS", rolloutStateReason: "", createdAt: w.now, updatedAt: w.now, ...extra },
      ...w.service.deployments,
    ],
  };
}
