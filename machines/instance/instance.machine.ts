import { assign, setup } from "xstate";
import type { InstanceEvent, InstanceRegistered } from "../../events/instance.events.ts";

/**
 * The container-instance aggregate (one Docker host with its agent).
 *
 *   NEW ─InstanceRegistered─► ACTIVE ⇄ DRAINING   (UpdateContainerInstancesState)
 *   ACTIVE | DRAINING ─InstanceDeregistered─► INACTIVE
 *
 * `agentConnected` is a fact recorded from heartbeats (InstanceAgentConnected/Disconnected), not a
 * timer kept in memory. Remaining resources are not stored here: they are derived from the tasks
 * placed on the instance.
 */

export type InstanceContext = Omit<InstanceRegistered, "type" | "at"> & {
  registeredAt: number;
  agentConnected: boolean;
  lastHeartbeatAt?: number;
  /** Attributes set with PutAttributes, kept apart from the agent's so re-registration keeps them. */
  customAttributes: { name: string; value?: string }[];
  version: number;
  deregisteredAt?: number;
  /** The agent's last reported check of its container runtime, and when that status began. */
  runtimeHealth?: { status: "OK" | "IMPAIRED"; changedAt: number };
};

const EMPTY: InstanceContext = {
  containerInstanceArn: "",
  instanceId: "",
  cluster: "",
  hostname: "",
  registeredResources: [],
  attributes: [],
  versionInfo: {},
  capacity: ["EC2"],
  tags: [],
  registeredAt: 0,
  agentConnected: false,
  customAttributes: [],
  version: 0,
};

type E<T extends InstanceEvent["type"]> = Extract<InstanceEvent, { type: T }>;

export const instanceMachine = setup({
  types: { context: {} as InstanceContext, events: {} as InstanceEvent },
  actions: {
    register: assign(({ event }) => {
      const { type: _t, at, ...rest } = event as E<"InstanceRegistered">;
      return { ...EMPTY, ...rest, registeredAt: at, agentConnected: true, lastHeartbeatAt: at, version: 1 };
    }),
    reregister: assign(({ context, event }) => {
      const e = event as E<"InstanceReregistered">;
      return {
        registeredResources: e.registeredResources,
        attributes: e.attributes,
        versionInfo: e.versionInfo,
        capacity: e.capacity,
        agentConnected: true,
        lastHeartbeatAt: e.at,
        version: context.version + 1,
      };
    }),
    connected: assign(({ context, event }) => ({
      agentConnected: true,
      lastHeartbeatAt: event.at,
      version: context.version + 1,
    })),
    disconnected: assign(({ context, event }) => ({
      agentConnected: false,
      lastHeartbeatAt: (event as E<"InstanceAgentDisconnected">).lastHeartbeatAt,
      version: context.version + 1,
    })),
    status: assign(({ context }) => ({ version: context.version + 1 })),
    // As in ECS, a deregistered instance's agent no longer counts as connected, whatever it still does.
    deregistered: assign(({ context, event }) => ({ deregisteredAt: event.at, agentConnected: false, version: context.version + 1 })),
    putAttributes: assign(({ context, event }) => {
      const byName = new Map(context.customAttributes.map((a) => [a.name, a]));
      for (const a of (event as E<"InstanceAttributesPut">).attributes) byName.set(a.name, a);
      return { customAttributes: [...byName.values()] };
    }),
    deleteAttributes: assign(({ context, event }) => {
      const drop = new Set((event as E<"InstanceAttributesDeleted">).names);
      return { customAttributes: context.customAttributes.filter((a) => !drop.has(a.name)) };
    }),
    tags: assign(({ event }) => ({ tags: (event as E<"InstanceTagsChanged">).tags })),
    // Not a state change ECS counts in `version`: it has an event of its own (health change).
    runtimeHealth: assign(({ event }) => ({
      runtimeHealth: { status: (event as E<"InstanceRuntimeHealthChanged">).status, changedAt: event.at },
    })),
  },
}).createMachine({
  id: "instance",
  initial: "NEW",
  context: EMPTY,
  on: {
    InstanceTagsChanged: { actions: "tags" },
  },
  states: {
    NEW: { on: { InstanceRegistered: { target: "ACTIVE", actions: "register" } } },
    ACTIVE: {
      on: {
        InstanceReregistered: { actions: "reregister" },
        InstanceAgentConnected: { actions: "connected" },
        InstanceAgentDisconnected: { actions: "disconnected" },
        InstanceStatusChanged: [
          { guard: ({ event }) => event.status === "DRAINING", target: "DRAINING", actions: "status" },
        ],
        InstanceDeregistered: { target: "INACTIVE", actions: "deregistered" },
        InstanceAttributesPut: { actions: "putAttributes" },
        InstanceAttributesDeleted: { actions: "deleteAttributes" },
        InstanceRuntimeHealthChanged: { actions: "runtimeHealth" },
      },
    },
    DRAINING: {
      on: {
        InstanceReregistered: { actions: "reregister" },
        InstanceAgentConnected: { actions: "connected" },
        InstanceAgentDisconnected: { actions: "disconnected" },
        InstanceStatusChanged: [
          { guard: ({ event }) => event.status === "ACTIVE", target: "ACTIVE", actions: "status" },
        ],
        InstanceDeregistered: { target: "INACTIVE", actions: "deregistered" },
        InstanceAttributesPut: { actions: "putAttributes" },
        InstanceAttributesDeleted: { actions: "deleteAttributes" },
        InstanceRuntimeHealthChanged: { actions: "runtimeHealth" },
      },
    },
    INACTIVE: {},
  },
});
