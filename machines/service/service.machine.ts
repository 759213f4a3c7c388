import { assign, setup } from "xstate";
import type { DeploymentSpec, RolloutState, ServiceCreated, ServiceEvent, ServiceSettings } from "../../events/service.events.ts";
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
  tags: Tag[];
}

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
    tags: e.tags,
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
      return { deployments: [newDeployment(e.deployment, e.at), ...context.deployments] };
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
    draining: assign(({ context }) => ({ settings: { ...context.settings, desiredCount: 0 } })),
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
        ServiceTasksPlaced: { actions: "placed" },
        ServiceDeleted: { target: "DRAINING", actions: "draining" },
      },
    },
    DRAINING: { on: { ServiceDrained: { target: "INACTIVE" } } },
    INACTIVE: { on: { ServiceCreated: { target: "ACTIVE", actions: "create" } } },
  },
});
