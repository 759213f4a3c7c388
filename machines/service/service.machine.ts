import { assign, setup } from "xstate";
import type {
  DeploymentConfiguration,
  DeploymentSpec,
  RolloutState,
  ServiceCreated,
  ServiceEvent,
  ServiceSettings,
} from "../../events/service.events.ts";
import type { Tag } from "../../events/shapes.ts";

/**
 * The service aggregate: its settings, its deployments (newest first; the first is PRIMARY) and
 * its event messages. Task counts are not stored: they are folds over the service's tasks.
 *
 *   NEW ─ServiceCreated─► ACTIVE ─ServiceDeleted─► DRAINING ─ServiceDrained─► INACTIVE ─ServiceCreated─► ACTIVE
 */

export interface Deployment extends DeploymentSpec {
  rolloutState: RolloutState;
  rolloutStateReason: string;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceMessage {
  id: string;
  createdAt: number;
  message: string;
  key: string;
}

/**
 * ECS's status of a service deployment (ListServiceDeployments). Berth's deployments start at
 * once and stop or roll back at once, so never PENDING, STOP_REQUESTED or ROLLBACK_REQUESTED.
 */
export type ServiceDeploymentStatus =
  | "IN_PROGRESS"
  | "SUCCESSFUL"
  | "STOPPED"
  | "ROLLBACK_IN_PROGRESS"
  | "ROLLBACK_SUCCESSFUL"
  | "ROLLBACK_FAILED";

/**
 * A service deployment, ECS's record of one rollout from the revisions that were running to a
 * target revision; kept after its deployment leaves `deployments`. Its id is its deployment's. A
 * rollback (the circuit breaker's, or StopServiceDeployment's) is a deployment of its own (a
 * revision) but not a service deployment: it shows as the rolled-back one's `rollback`.
 */
export interface ServiceDeploymentRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** When it ended (every status but the two in progress). */
  finishedAt?: number;
  /** When it was stopped: it failed without rollback, or a newer deployment replaced it. */
  stoppedAt?: number;
  status: ServiceDeploymentStatus;
  statusReason?: string;
  /** The service revisions (serviceRevisionOf) running when it started. */
  sources: string[];
  /** The service's deployment configuration when it started. */
  deploymentConfiguration: DeploymentConfiguration;
  /** It was rolled back by starting deployment `deploymentId`, which runs service revision `revision`. */
  rollback?: { reason: string; startedAt: number; deploymentId: string; revision?: string };
}

/** The id of the service revision a deployment runs (its own, unless it is a rollback). */
export const serviceRevisionOf = (d: { id: string; revision?: string | undefined }): string => d.revision ?? d.id;

/** A service revision: what one deployment runs (its id is serviceRevisionOf that deployment). */
export interface ServiceRevisionRecord {
  spec: DeploymentSpec;
  createdAt: number;
}

/** Every slot the scheduler placed, in order: the log's record that no slot is placed twice. */
export interface PlacedSlot {
  taskId: string;
  deploymentId: string;
  instanceId: string;
  instanceArn: string;
  availabilityZone?: string;
  at: number;
}

export interface ServiceContext {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  cluster: string;
  schedulingStrategy: "REPLICA" | "DAEMON";
  deploymentController: "ECS" | "CODE_DEPLOY" | "EXTERNAL";
  roleArn?: string;
  createdBy?: string;
  clientToken?: string;
  createdAt: number;
  settings: ServiceSettings;
  deployments: Deployment[];
  /** Newest first, at most 100 (ECS keeps the latest 100). */
  messages: ServiceMessage[];
  placed: PlacedSlot[];
  /** The last deployment whose rollout COMPLETED: where the circuit breaker rolls back to. */
  lastCompleted?: DeploymentSpec;
  /** Service deployments, newest first, at most MAX_SERVICE_DEPLOYMENTS; gone with the service. */
  history: ServiceDeploymentRecord[];
  /** The revisions of every deployment started, newest first, at most MAX_SERVICE_REVISIONS. */
  revisions: ServiceRevisionRecord[];
  tags: Tag[];
}

/** Service deployments kept per service (ECS keeps 90 days of them). */
export const MAX_SERVICE_DEPLOYMENTS = 100;
/** Revisions kept per service: those of the kept deployments and of their rollbacks. */
export const MAX_SERVICE_REVISIONS = 2 * MAX_SERVICE_DEPLOYMENTS;

export const MAX_MESSAGES = 100;
/**
 * Slots kept in the service's context. Only slots whose task is not created yet matter (they are
 * in flight or being repaired), and those are always among the most recent placements.
 */
export const MAX_PLACED_SLOTS = 1_000;

const EMPTY: ServiceContext = {
  serviceArn: "",
  serviceName: "",
  clusterArn: "",
  cluster: "",
  schedulingStrategy: "REPLICA",
  deploymentController: "ECS",
  createdAt: 0,
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
  },
  deployments: [],
  messages: [],
  placed: [],
  history: [],
  revisions: [],
  tags: [],
};

type E<T extends ServiceEvent["type"]> = Extract<ServiceEvent, { type: T }>;

const newDeployment = (spec: DeploymentSpec, at: number): Deployment => ({
  ...spec,
  rolloutState: "IN_PROGRESS",
  rolloutStateReason: `ECS deployment ${spec.id} in progress.`,
  createdAt: at,
  updatedAt: at,
});

const ongoing = (h: ServiceDeploymentRecord) => h.status === "IN_PROGRESS" || h.status === "ROLLBACK_IN_PROGRESS";

const newRecord = (
  id: string,
  at: number,
  sources: string[],
  deploymentConfiguration: DeploymentConfiguration,
): ServiceDeploymentRecord => ({
  id,
  createdAt: at,
  updatedAt: at,
  status: "IN_PROGRESS",
  sources,
  deploymentConfiguration,
});

/**
 * The service deployments after DeploymentStarted: a rollback marks the one it rolls back; any
 * other deployment starts a service deployment and stops those in progress.
 */
function started(ctx: ServiceContext, e: E<"DeploymentStarted">): ServiceDeploymentRecord[] {
  const rolledBack = e.deployment.rollbackOf;
  if (rolledBack !== undefined)
    return ctx.history.map((h) =>
      h.id === rolledBack
        ? {
            ...without(h, "finishedAt", "stoppedAt"),
            status: "ROLLBACK_IN_PROGRESS",
            statusReason: e.reason ?? h.statusReason,
            updatedAt: e.at,
            rollback: { reason: e.reason ?? "", startedAt: e.at, deploymentId: e.deployment.id, revision: serviceRevisionOf(e.deployment) },
          }
        : h,
    );
  const statusReason = `Service deployment ${e.deployment.id} started before it finished.`;
  const stopped = ctx.history.map((h) =>
    ongoing(h) ? { ...h, status: "STOPPED" as const, statusReason, stoppedAt: e.at, finishedAt: e.at, updatedAt: e.at } : h,
  );
  const record = newRecord(e.deployment.id, e.at, [...new Set(ctx.deployments.map(serviceRevisionOf))], ctx.settings.deploymentConfiguration);
  return [record, ...stopped].slice(0, MAX_SERVICE_DEPLOYMENTS);
}

/** The service deployments after a rollout ends: its own, or the one whose rollback it is. */
function rolledOut(history: ServiceDeploymentRecord[], e: E<"DeploymentRolloutChanged">): ServiceDeploymentRecord[] {
  if (e.rolloutState === "IN_PROGRESS") return history;
  const ok = e.rolloutState === "COMPLETED";
  return history.map((h) => {
    if (h.id === e.deploymentId && h.status === "IN_PROGRESS")
      return ok
        ? { ...h, status: "SUCCESSFUL", statusReason: e.reason, finishedAt: e.at, updatedAt: e.at }
        : { ...h, status: "STOPPED", statusReason: e.reason, stoppedAt: e.at, finishedAt: e.at, updatedAt: e.at };
    // A rollback's end keeps why it rolled back, or says why the rollback failed.
    if (h.rollback?.deploymentId === e.deploymentId && h.status === "ROLLBACK_IN_PROGRESS")
      return ok
        ? { ...h, status: "ROLLBACK_SUCCESSFUL", finishedAt: e.at, updatedAt: e.at }
        : { ...h, status: "ROLLBACK_FAILED", statusReason: e.reason, finishedAt: e.at, updatedAt: e.at };
    return h;
  });
}

function without<T extends object, K extends keyof T>(o: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...o };
  for (const k of keys) delete copy[k];
  return copy;
}

function created(e: ServiceCreated): ServiceContext {
  return {
    ...EMPTY,
    serviceArn: e.serviceArn,
    serviceName: e.serviceName,
    clusterArn: e.clusterArn,
    cluster: e.cluster,
    schedulingStrategy: e.schedulingStrategy,
    deploymentController: e.deploymentController,
    roleArn: e.roleArn,
    createdBy: e.createdBy,
    clientToken: e.clientToken,
    createdAt: e.at,
    settings: e.settings,
    deployments: [newDeployment(e.deployment, e.at)],
    history: [newRecord(e.deployment.id, e.at, [], e.settings.deploymentConfiguration)],
    revisions: [{ spec: e.deployment, createdAt: e.at }],
    tags: e.tags,
  };
}

/** A new PRIMARY deployment: its service deployment (or the rollback of one) and its revision. */
function deployed(context: ServiceContext, e: E<"DeploymentStarted">): Partial<ServiceContext> {
  return {
    deployments: [newDeployment(e.deployment, e.at), ...context.deployments],
    history: started(context, e),
    // A rollback runs a revision that exists already: no new one.
    revisions: context.revisions.some((r) => r.spec.id === serviceRevisionOf(e.deployment))
      ? context.revisions
      : [{ spec: e.deployment, createdAt: e.at }, ...context.revisions].slice(0, MAX_SERVICE_REVISIONS),
  };
}

const mapDeployment = (ctx: ServiceContext, id: string, f: (d: Deployment) => Deployment) => ({
  deployments: ctx.deployments.map((d) => (d.id === id ? f(d) : d)),
});

export const serviceMachine = setup({
  types: { context: {} as ServiceContext, events: {} as ServiceEvent },
  actions: {
    create: assign(({ event }) => created(event as E<"ServiceCreated">)),
    settings: assign(({ context, event }) => ({
      settings: { ...context.settings, ...(event as E<"ServiceSettingsChanged">).settings },
    })),
    deploy: assign(({ context, event }) => {
      const e = event as E<"DeploymentStarted">;
      if (!e.settings) return deployed(context, e);
      // The settings first: the deployment's service deployment records the configuration they set.
      const settings = { ...context.settings, ...e.settings };
      return { settings, ...deployed({ ...context, settings }, e) };
    }),
    rollbackStarted: assign(({ context, event }) => {
      const e = event as E<"DeploymentRolloutChanged">;
      return e.rollback ? deployed(context, { type: "DeploymentStarted", at: e.at, deployment: e.rollback, reason: e.reason }) : {};
    }),
    rollout: assign(({ context, event }) => {
      const e = event as E<"DeploymentRolloutChanged">;
      const done = context.deployments.find((d) => d.id === e.deploymentId);
      const { rolloutState: _r, rolloutStateReason: _s, createdAt: _c, updatedAt: _u, ...spec } = done ?? ({} as Deployment);
      return {
        ...mapDeployment(context, e.deploymentId, (d) => ({
          ...d,
          rolloutState: e.rolloutState,
          rolloutStateReason: e.reason,
          updatedAt: e.at,
        })),
        ...(e.rolloutState === "COMPLETED" && done ? { lastCompleted: spec as DeploymentSpec } : {}),
        history: rolledOut(context.history, e),
      };
    }),
    retire: assign(({ context, event }) => ({
      deployments: context.deployments.filter((d) => d.id !== (event as E<"DeploymentRetired">).deploymentId),
    })),
    message: assign(({ context, event }) => {
      const e = event as E<"ServiceEventRecorded">;
      return { messages: [{ id: e.id, createdAt: e.at, message: e.message, key: e.key }, ...context.messages].slice(0, MAX_MESSAGES) };
    }),
    placed: assign(({ context, event }) => {
      const e = event as E<"ServiceTasksPlaced">;
      return {
        placed: [...context.placed, ...e.tasks.map((t) => ({ ...t, deploymentId: e.deploymentId, at: e.at }))].slice(-MAX_PLACED_SLOTS),
        deployments: context.deployments.map((d) => (d.id === e.deploymentId ? { ...d, updatedAt: e.at } : d)),
      };
    }),
    tags: assign(({ event }) => ({ tags: (event as E<"ServiceTagsChanged">).tags })),
    // ECS deletes a service's deployments with it.
    draining: assign(({ context }) => ({ settings: { ...context.settings, desiredCount: 0 }, history: [], revisions: [] })),
  },
}).createMachine({
  id: "service",
  initial: "NEW",
  context: EMPTY,
  on: {
    ServiceEventRecorded: { actions: "message" },
    ServiceTagsChanged: { actions: "tags" },
    DeploymentRolloutChanged: { actions: "rollout" },
    DeploymentRetired: { actions: "retire" },
  },
  states: {
    NEW: { on: { ServiceCreated: { target: "ACTIVE", actions: "create" } } },
    ACTIVE: {
      on: {
        ServiceSettingsChanged: { actions: "settings" },
        DeploymentStarted: { actions: "deploy" },
        // Its rollback, if any, starts once the rollout is marked (an ACTIVE service's only).
        DeploymentRolloutChanged: { actions: ["rollout", "rollbackStarted"] },
        ServiceTasksPlaced: { actions: "placed" },
        ServiceDeleted: { target: "DRAINING", actions: "draining" },
      },
    },
    DRAINING: { on: { ServiceDrained: { target: "INACTIVE" } } },
    INACTIVE: { on: { ServiceCreated: { target: "ACTIVE", actions: "create" } } },
  },
});
