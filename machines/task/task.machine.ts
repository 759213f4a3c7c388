import { assign, setup } from "xstate";
import type { Attachment, NetworkBinding, NetworkInterface, Tag } from "../../events/shapes.ts";
import type {
  ContainerStatus,
  DesiredStatus,
  HealthStatus,
  Reservation,
  StopCode,
  TaskCreated,
  TaskEvent,
  TaskSpec,
} from "../../events/task.events.ts";
import { precreatedEni } from "./task.eni.ts";
import { containerArnOf, taskArnOf, taskSpecOf } from "./task.spec.ts";

/**
 * The task aggregate. The machine's state value IS the task's lastStatus (ECS order); context
 * holds everything else DescribeTasks shows. The machine is only ever driven by decided events
 * (never by commands): `transition()` is evolve, and the actions it returns are intents the shell
 * executes (start or stop the task on its agent) — replay discards them.
 *
 *   NEW ─TaskCreated─► PROVISIONING (awsvpc, its interface PRECREATED) ─TaskAttachmentsChanged─► PENDING ─TaskStarted─► RUNNING
 *                      PENDING ◄───────────── (other network modes)
 *   RUNNING ─TaskStopping─► STOPPING ─TaskStopped─► STOPPED
 *   STOPPING (or earlier) ─TaskDeprovisioning─► DEPROVISIONING ─TaskStopped─► STOPPED
 *     (awsvpc: the containers stopped, the interface still to be let go)
 *   any state before STOPPED ─TaskStopped─► STOPPED (a task that fails before RUNNING)
 *   TaskStopRequested sets desiredStatus STOPPED in any live state (intent: stop on agent)
 */

export interface ContainerRecord {
  name: string;
  /** The last element of the container's ARN; containerArnOf gives the whole. */
  containerId: string;
  /** The whole ARN, kept only when it is not the one containerArnOf builds (Berth mints none such). */
  arn?: string;
  image: string;
  essential: boolean;
  lastStatus: ContainerStatus;
  cpu: number;
  memory?: number;
  memoryReservation?: number;
  runtimeId?: string;
  imageDigest?: string;
  exitCode?: number;
  reason?: string;
  networkBindings: NetworkBinding[];
  networkInterfaces: NetworkInterface[];
  healthStatus: HealthStatus;
}

/**
 * A task's state besides its status. What its spec already says (cluster, task definition, launch
 * type, task-level cpu and memory) is read from `spec`, shared by the tasks of one definition; its
 * ARN is built from the cluster's and its id (taskArnOf); connectivity follows from its placement
 * (connectivityOf). A control plane holds one context per task: each field is 8 bytes of it.
 */
export interface TaskContext {
  taskId: string;
  /** The task's ARN, kept only when it is not the one taskArnOf builds (Berth mints none such). */
  arn?: string;
  containerInstanceArn?: string;
  instanceId?: string;
  group: string;
  startedBy?: string;
  overrides: TaskCreated["overrides"];
  tags: Tag[];
  clientToken?: string;
  capacityProviderName?: string;
  availabilityZone?: string;
  platformVersion?: string;
  subnetId?: string;
  enableExecuteCommand: boolean;
  createdAt: number;
  desiredStatus: DesiredStatus;
  healthStatus: HealthStatus;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  executionStoppedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  /** ECS's task version: +1 on every change that would emit a state-change event. */
  version: number;
  containers: ContainerRecord[];
  attachments: Attachment[];
  reservation: Reservation;
  /** The runtime spec without the task's ARN and id (shared between tasks; runtimeSpecOf gives the whole). */
  spec: TaskSpec;
  /** Scale-in protection (UpdateTaskProtection); it lapses at `expiresAt`. */
  protection?: { enabled: boolean; expiresAt?: number };
}

const EMPTY: TaskContext = {
  taskId: "",
  group: "",
  overrides: {},
  tags: [],
  enableExecuteCommand: false,
  createdAt: 0,
  desiredStatus: "RUNNING",
  healthStatus: "UNKNOWN",
  version: 0,
  containers: [],
  attachments: [],
  reservation: { cpu: 0, memory: 0, ports: [], portsUdp: [] },
  spec: {
    clusterArn: "",
    cluster: "",
    taskDefinitionArn: "",
    family: "",
    revision: 0,
    launchType: "EC2",
    networkMode: "bridge",
    volumes: [],
    containers: [],
  },
};

type E<T extends TaskEvent["type"]> = Extract<TaskEvent, { type: T }>;

/**
 * The fields TaskCreated sets; assign merges them over the NEW state's context (EMPTY). Not
 * spread over EMPTY here: V8 gives every object built as `{ ...EMPTY, <fields EMPTY lacks> }` a
 * hidden class of its own, which costs tens of microseconds and a kilobyte per task.
 */
function created(e: E<"TaskCreated">): Partial<TaskContext> {
  const { spec } = e;
  const taskId = spec.taskId;
  // An ARN is kept only when the one built from the cluster's ARN and the ids is not it.
  return {
    taskId,
    arn: e.taskArn === taskArnOf({ taskId, spec }) ? undefined : e.taskArn,
    containerInstanceArn: e.containerInstanceArn,
    instanceId: e.instanceId,
    group: e.group,
    startedBy: e.startedBy,
    overrides: e.overrides,
    tags: e.tags,
    clientToken: e.clientToken,
    capacityProviderName: e.capacityProviderName,
    availabilityZone: e.availabilityZone,
    platformVersion: e.platformVersion,
    subnetId: e.subnetId,
    enableExecuteCommand: e.enableExecuteCommand,
    createdAt: e.at,
    version: 1,
    // An awsvpc task shows its interface from its creation on, PRECREATED in its subnet.
    attachments: spec.networkMode === "awsvpc" ? [precreatedEni(taskId, e.subnetId)] : NONE,
    reservation: e.reservation,
    spec: taskSpecOf(spec),
    containers: e.containers.map(({ name, containerArn }) => {
      const def = spec.containers.find((c) => c.name === name);
      const containerId = containerArn.slice(containerArn.lastIndexOf("/") + 1);
      return containerRecord({
        name,
        containerId,
        arn: containerArn === containerArnOf({ taskId, spec }, { containerId }) ? undefined : containerArn,
        image: def?.image ?? "",
        essential: def?.essential ?? true,
        lastStatus: "PENDING",
        cpu: def?.cpu ?? 0,
        memory: def?.memory,
        memoryReservation: def?.memoryReservation,
        networkBindings: NONE,
        networkInterfaces: NONE,
        healthStatus: "UNKNOWN",
      });
    }),
  };
}

/** One empty list shared by every container without bindings or interfaces (folded values are never modified). */
const NONE: never[] = [];
const orNone = <T>(list: T[]): T[] => (list.length === 0 ? NONE : list);

/**
 * A container record of one fixed shape. Built by spreading and then adding the optional keys,
 * each record ended up with a hidden class of its own (a V8 map and descriptor array per task,
 * ~400 bytes); a literal naming every key in one order gives every record the same one.
 */
function containerRecord(c: ContainerRecord, change?: E<"TaskContainerChanged">): ContainerRecord {
  const out: { [K in keyof Required<ContainerRecord>]: ContainerRecord[K] } = {
    name: c.name,
    containerId: c.containerId,
    arn: c.arn,
    image: c.image,
    essential: c.essential,
    lastStatus: change ? change.lastStatus : c.lastStatus,
    cpu: c.cpu,
    memory: c.memory,
    memoryReservation: c.memoryReservation,
    runtimeId: change?.runtimeId ?? c.runtimeId,
    imageDigest: change?.imageDigest ?? c.imageDigest,
    exitCode: change?.exitCode ?? c.exitCode,
    reason: change?.reason ?? c.reason,
    networkBindings: change?.networkBindings === undefined ? c.networkBindings : orNone(change.networkBindings),
    networkInterfaces: change?.networkInterfaces === undefined ? c.networkInterfaces : orNone(change.networkInterfaces),
    healthStatus: change?.healthStatus ?? c.healthStatus,
  };
  return out;
}

/**
 * What one container's change sets in its task's context. An update, not a whole new context:
 * the table's assign copies the context once (compactContext) and lays this over it. (Built as
 * `{ ...ctx, … }` it was a second, throwaway copy of 30 fields per event.)
 */
function containerChanged(ctx: TaskContext, e: E<"TaskContainerChanged">): Partial<TaskContext> {
  return {
    containers: ctx.containers.map((c) => (c.name === e.name ? containerRecord(c, e) : c)),
    version: ctx.version + 1,
    pullStartedAt: ctx.pullStartedAt ?? e.pullStartedAt,
    pullStoppedAt:
      e.pullStoppedAt !== undefined ? Math.max(ctx.pullStoppedAt ?? 0, e.pullStoppedAt) : ctx.pullStoppedAt,
  };
}

/** Container and network facts land in every live state. */
const facts = {
  TaskContainerChanged: { actions: "container" },
  TaskAttachmentsChanged: { actions: "attachments" },
} as const;
const health = { TaskHealthChanged: { actions: "health" } } as const;
const start = { TaskStarted: { guard: "wantsRunning", target: "RUNNING", actions: "started" } } as const;
const stopRequest = {
  TaskStopRequested: { guard: "notYetStopRequested", actions: ["stopRequested", "stopOnAgent"] },
} as const;
const stopping = { TaskStopping: { target: "STOPPING", actions: "stopping" } } as const;
const deprovisioning = { TaskDeprovisioning: { target: "DEPROVISIONING", actions: "deprovisioning" } } as const;
const stopped = { TaskStopped: { target: "STOPPED", actions: "stopped" } } as const;

export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
  },
  guards: {
    awsvpc: ({ event }) => event.type === "TaskCreated" && event.spec.networkMode === "awsvpc",
    wantsRunning: ({ context }) => context.desiredStatus === "RUNNING",
    notYetStopRequested: ({ context }) => context.desiredStatus === "RUNNING",
  },
  actions: {
    create: assign(({ event }) => created(event as E<"TaskCreated">)),
    container: assign(({ context, event }) => containerChanged(context, event as E<"TaskContainerChanged">)),
    attachments: assign(({ context, event }) => ({
      attachments: (event as E<"TaskAttachmentsChanged">).attachments,
      version: context.version + 1,
    })),
    started: assign(({ context, event }) => ({
      startedAt: event.at,
      version: context.version + 1,
    })),
    health: assign(({ context, event }) => ({
      healthStatus: (event as E<"TaskHealthChanged">).healthStatus,
      version: context.version + 1,
    })),
    stopRequested: assign(({ context, event }) => {
      const e = event as E<"TaskStopRequested">;
      return {
        desiredStatus: "STOPPED" as const,
        stopCode: e.stopCode,
        stoppedReason: e.reason,
        version: context.version + 1,
      };
    }),
    stopping: assign(({ context, event }) => ({ stoppingAt: event.at, version: context.version + 1 })),
    // The containers stopped: the task's execution ended, though the task is not STOPPED yet.
    deprovisioning: assign(({ context, event }) => ({
      desiredStatus: "STOPPED" as const,
      stoppingAt: context.stoppingAt ?? event.at,
      executionStoppedAt: event.at,
      version: context.version + 1,
    })),
    stopped: assign(({ context, event }) => {
      const e = event as E<"TaskStopped">;
      return {
        desiredStatus: "STOPPED" as const,
        stoppedAt: e.at,
        stoppingAt: context.stoppingAt ?? e.at,
        executionStoppedAt: context.executionStoppedAt ?? e.executionStoppedAt ?? e.at,
        stopCode: context.stopCode ?? e.stopCode,
        stoppedReason: context.stoppedReason ?? e.reason,
        // Stopped tasks lose their tags, as in ECS.
        tags: [],
        version: context.version + 1,
      };
    }),
    tags: assign(({ event }) => ({ tags: (event as E<"TaskTagsChanged">).tags })),
    protection: assign(({ event }) => {
      const e = event as E<"TaskProtectionChanged">;
      return {
        protection: { enabled: e.protectionEnabled, ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}) },
      };
    }),
    // Intents: no-ops inside the machine; the shell executes them when it sees them returned by
    // transition() for a live (not replayed) event.
    startOnAgent: () => {},
    stopOnAgent: () => {},
  },
}).createMachine({
  // Transitions shared by several states (see the diagram above for which states have which).
  id: "task",
  initial: "NEW",
  context: EMPTY,
  on: {
    TaskTagsChanged: { actions: "tags" },
    TaskProtectionChanged: { actions: "protection" },
  },
  states: {
    NEW: {
      on: {
        TaskCreated: [
          { guard: "awsvpc", target: "PROVISIONING", actions: ["create", "startOnAgent"] },
          { target: "PENDING", actions: ["create", "startOnAgent"] },
        ],
      },
    },
    PROVISIONING: {
      on: {
        ...facts,
        TaskAttachmentsChanged: { target: "PENDING", actions: "attachments" },
        ...stopRequest,
        ...stopped,
      },
    },
    PENDING: { on: { ...facts, ...start, ...stopRequest, ...stopping, ...deprovisioning, ...stopped } },
    ACTIVATING: { on: { ...facts, ...start, ...stopRequest, ...stopping, ...deprovisioning, ...stopped } },
    RUNNING: { on: { ...facts, ...health, ...stopRequest, ...stopping, ...deprovisioning, ...stopped } },
    DEACTIVATING: { on: { ...facts, ...stopping, ...deprovisioning, ...stopped } },
    STOPPING: { on: { ...facts, ...health, ...stopRequest, ...deprovisioning, ...stopped } },
    DEPROVISIONING: { on: { ...facts, ...stopped } },
    STOPPED: {
      on: {
        // Late container facts (exit codes reported after the task was declared stopped) still land.
        TaskContainerChanged: { actions: "container" },
        TaskAttachmentsChanged: { actions: "attachments" },
      },
    },
  },
});

export type TaskMachine = typeof taskMachine;
export type TaskLastStatus = Exclude<keyof typeof taskMachine.config.states & string, "NEW">;
