import { assign, setup } from "xstate";
import type { ClusterCreated, ClusterEvent } from "../../events/cluster.events.ts";

/**
 * The cluster aggregate.
 *
 *   NEW ─ClusterCreated─► ACTIVE ─ClusterDeleted─► INACTIVE ─ClusterCreated─► ACTIVE (name reused)
 *
 * Counts (tasks, services, instances) are not part of the cluster: they are folds over the other
 * aggregates, passed to decide as inputs where a rule needs them (DeleteCluster).
 */

export type ClusterContext = Omit<ClusterCreated, "type" | "at"> & { createdAt: number; deletedAt?: number };

const EMPTY: ClusterContext = {
  clusterArn: "",
  clusterName: "",
  settings: [],
  capacityProviders: [],
  defaultCapacityProviderStrategy: [],
  tags: [],
  createdAt: 0,
};

type E<T extends ClusterEvent["type"]> = Extract<ClusterEvent, { type: T }>;

export const clusterMachine = setup({
  types: { context: {} as ClusterContext, events: {} as ClusterEvent },
  actions: {
    create: assign(({ event }) => {
      const { type: _t, at, ...rest } = event as E<"ClusterCreated">;
      return { ...rest, createdAt: at, deletedAt: undefined };
    }),
    update: assign(({ context, event }) => {
      const e = event as E<"ClusterUpdated">;
      return {
        settings: e.settings ?? context.settings,
        configuration: e.configuration ?? context.configuration,
        serviceConnectDefaults: e.serviceConnectDefaults ?? context.serviceConnectDefaults,
      };
    }),
    capacity: assign(({ event }) => {
      const e = event as E<"ClusterCapacityProvidersPut">;
      return { capacityProviders: e.capacityProviders, defaultCapacityProviderStrategy: e.defaultCapacityProviderStrategy };
    }),
    tags: assign(({ event }) => ({ tags: (event as E<"ClusterTagsChanged">).tags })),
    deleted: assign(({ event }) => ({ deletedAt: event.at })),
  },
}).createMachine({
  id: "cluster",
  initial: "NEW",
  context: EMPTY,
  states: {
    NEW: { on: { ClusterCreated: { target: "ACTIVE", actions: "create" } } },
    ACTIVE: {
      on: {
        ClusterUpdated: { actions: "update" },
        ClusterCapacityProvidersPut: { actions: "capacity" },
        ClusterTagsChanged: { actions: "tags" },
        ClusterDeleted: { target: "INACTIVE", actions: "deleted" },
      },
    },
    INACTIVE: { on: { ClusterCreated: { target: "ACTIVE", actions: "create" } } },
  },
});
