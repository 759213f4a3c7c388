import { z } from "zod";
import { CapacityProviderStrategyItem, Millis, Tag } from "./shapes.ts";

export const ClusterSetting = z.object({ name: z.literal("containerInsights"), value: z.string() });
export type ClusterSetting = z.infer<typeof ClusterSetting>;

/** ECS's cluster `configuration` (execute-command and managed-storage settings), stored as given. */
export const ClusterConfiguration = z.looseObject({
  executeCommandConfiguration: z.looseObject({}).optional(),
  managedStorageConfiguration: z.looseObject({}).optional(),
});

export const ServiceConnectDefaults = z.object({ namespace: z.string() });

export const ClusterCreated = z.object({
  type: z.literal("ClusterCreated"),
  at: Millis,
  clusterArn: z.string(),
  clusterName: z.string(),
  settings: z.array(ClusterSetting),
  configuration: ClusterConfiguration.optional(),
  capacityProviders: z.array(z.string()),
  defaultCapacityProviderStrategy: z.array(CapacityProviderStrategyItem),
  serviceConnectDefaults: ServiceConnectDefaults.optional(),
  tags: z.array(Tag),
});

export const ClusterUpdated = z.object({
  type: z.literal("ClusterUpdated"),
  at: Millis,
  settings: z.array(ClusterSetting).optional(),
  configuration: ClusterConfiguration.optional(),
  serviceConnectDefaults: ServiceConnectDefaults.optional(),
});

export const ClusterCapacityProvidersPut = z.object({
  type: z.literal("ClusterCapacityProvidersPut"),
  at: Millis,
  capacityProviders: z.array(z.string()),
  defaultCapacityProviderStrategy: z.array(CapacityProviderStrategyItem),
});

export const ClusterTagsChanged = z.object({ type: z.literal("ClusterTagsChanged"), at: Millis, tags: z.array(Tag) });

export const ClusterDeleted = z.object({ type: z.literal("ClusterDeleted"), at: Millis });

export const ClusterEvent = z.discriminatedUnion("type", [
  ClusterCreated,
  ClusterUpdated,
  ClusterCapacityProvidersPut,
  ClusterTagsChanged,
  ClusterDeleted,
]);
export type ClusterEvent = z.infer<typeof ClusterEvent>;
export type ClusterCreated = z.infer<typeof ClusterCreated>;
