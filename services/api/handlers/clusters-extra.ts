import { z } from "zod";
import { ClusterConfiguration, type ClusterEvent } from "../../../events/cluster.events.ts";
import { CapacityProviderStrategyItem } from "../../../events/shapes.ts";
import { isBuiltIn, validateStrategy } from "../../../machines/account/capacity-providers.ts";
import { type ClusterCommand, decideCluster, initialCluster } from "../../../machines/cluster/cluster.decide.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { clusterCounts } from "../counts.ts";
import { EcsError, invalid, parseInput, unwrap } from "../errors.ts";
import { renderCluster } from "../render.ts";
import { activeCluster } from "../resolve.ts";
import { capacityProviderExists, clustersUsing } from "./capacity-providers.ts";

/**
 * UpdateCluster, UpdateClusterSettings and PutClusterCapacityProviders. Each answers with the
 * cluster as DescribeClusters shows it with settings, configuration and tags included.
 */

/** Cluster settings: only containerInsights, with ECS's three values. */
const Settings = z.array(
  z.object({ name: z.literal("containerInsights"), value: z.enum(["enhanced", "enabled", "disabled"]) }),
);

const ExecuteCommandConfiguration = z.looseObject({
  kmsKeyId: z.string().optional(),
  logging: z.enum(["NONE", "DEFAULT", "OVERRIDE"]).optional(),
  logConfiguration: z.looseObject({}).optional(),
});
const Configuration = ClusterConfiguration.extend({
  executeCommandConfiguration: ExecuteCommandConfiguration.optional(),
});

type ClusterRef = ReturnType<typeof activeCluster>;

async function runClusterCommand(ref: ClusterRef, command: ClusterCommand, ctx: RequestContext, s: ApiServices) {
  await unwrap(
    s.bus.execute({
      subject: ref.subject,
      resource: ref.arn,
      get: () => s.model.clusters.get(ref.subject),
      initial: initialCluster,
      decide: (state) => decideCluster(command, state),
      meta: { correlationid: ctx.requestId },
    }),
  );
}

function rendered(ref: ClusterRef, s: ApiServices) {
  const agg = s.model.clusters.get(ref.subject);
  if (!agg) throw new Error(`cluster ${ref.name} missing from the read model after a write`);
  return renderCluster(agg, clusterCounts(s.model, ref.subject), new Set(["SETTINGS", "CONFIGURATIONS", "TAGS"]));
}

function checkConfiguration(c: z.infer<typeof Configuration> | undefined) {
  const exec = c?.executeCommandConfiguration;
  if (exec?.logging === "OVERRIDE" && !exec.logConfiguration)
    throw invalid(
      "When logging is OVERRIDE, a logConfiguration must be specified in the execute command configuration.",
    );
  if (exec && exec.logging !== "OVERRIDE" && exec.logConfiguration)
    throw invalid("A logConfiguration can only be specified when logging is OVERRIDE.");
}

const UpdateClusterInput = z.object({
  cluster: z.string(),
  settings: Settings.optional(),
  configuration: Configuration.optional(),
  serviceConnectDefaults: z.object({ namespace: z.string() }).optional(),
});

export const UpdateCluster: Handler = async (raw, ctx, s) => {
  const input = parseInput(UpdateClusterInput, raw);
  const ref = activeCluster(input.cluster, ctx, s);
  checkConfiguration(input.configuration);
  // Berth has no Cloud Map: any namespace named is unknown (an empty one asks for none, which is the case).
  const namespace = input.serviceConnectDefaults?.namespace;
  if (namespace) throw new EcsError("NamespaceNotFoundException", `Namespace ${namespace} not found.`);
  const event: Extract<ClusterEvent, { type: "ClusterUpdated" }> = {
    type: "ClusterUpdated",
    at: ctx.now,
    ...(input.settings ? { settings: input.settings } : {}),
    ...(input.configuration ? { configuration: input.configuration } : {}),
  };
  if (input.settings || input.configuration) await runClusterCommand(ref, { type: "UpdateCluster", event }, ctx, s);
  return { cluster: rendered(ref, s) };
};

const UpdateClusterSettingsInput = z.object({ cluster: z.string(), settings: Settings });

export const UpdateClusterSettings: Handler = async (raw, ctx, s) => {
  const input = parseInput(UpdateClusterSettingsInput, raw);
  const ref = activeCluster(input.cluster, ctx, s);
  if (input.settings.length === 0) throw invalid("settings cannot be empty.");
  await runClusterCommand(
    ref,
    { type: "UpdateCluster", event: { type: "ClusterUpdated", at: ctx.now, settings: input.settings } },
    ctx,
    s,
  );
  return { cluster: rendered(ref, s) };
};

const PutClusterCapacityProvidersInput = z.object({
  cluster: z.string(),
  capacityProviders: z.array(z.string()),
  defaultCapacityProviderStrategy: z.array(CapacityProviderStrategyItem),
});

export const PutClusterCapacityProviders: Handler = async (raw, ctx, s) => {
  const input = parseInput(PutClusterCapacityProvidersInput, raw);
  const ref = activeCluster(input.cluster, ctx, s);
  const wanted = [...new Set(input.capacityProviders)];
  if (wanted.length > 20) throw invalid("A cluster can have at most 20 capacity providers.");
  for (const name of wanted) {
    if (!capacityProviderExists(s, ctx.region, name))
      throw invalid(
        `The specified capacity provider ${name} is not in an ACTIVE state. Specify a valid capacity provider and try again.`,
      );
    const elsewhere = isBuiltIn(name) ? [] : clustersUsing(s, ctx.region, name).filter((c) => c !== ref.name);
    if (elsewhere.length > 0)
      throw invalid(
        `The capacity provider ${name} is already associated with the cluster ${elsewhere[0]}. An Auto Scaling group capacity provider can be associated with one cluster only.`,
      );
  }
  const strategy = validateStrategy(input.defaultCapacityProviderStrategy, wanted);
  if (!strategy.ok) throw new EcsError(strategy.rejection.code, strategy.rejection.message);
  const removed = ref.agg.snapshot.context.capacityProviders.filter((p) => !wanted.includes(p));
  for (const name of removed)
    if (providerInUse(s, ref.subject, name))
      throw new EcsError("ResourceInUseException", "The specified capacity provider is in use and cannot be removed.");
  await runClusterCommand(
    ref,
    {
      type: "PutCapacityProviders",
      event: {
        type: "ClusterCapacityProvidersPut",
        at: ctx.now,
        capacityProviders: wanted,
        defaultCapacityProviderStrategy: strategy.strategy,
      },
    },
    ctx,
    s,
  );
  return { cluster: rendered(ref, s) };
};

/** A provider is in use while a task that runs on it has not stopped, or a live service's strategy names it. */
function providerInUse(s: ApiServices, clusterSubject: string, name: string): boolean {
  for (const t of s.model.tasksByCluster.get(clusterSubject)?.values() ?? []) {
    const task = s.model.tasks.get(t);
    if (task && task.snapshot.value !== "STOPPED" && task.snapshot.context.capacityProviderName === name) return true;
  }
  for (const sv of s.model.servicesByCluster.get(clusterSubject) ?? []) {
    const svc = s.model.services.get(sv);
    if (!svc || svc.snapshot.value === "INACTIVE" || svc.snapshot.value === "NEW") continue;
    if (
      svc.snapshot.context.deployments.some((d) => d.capacityProviderStrategy?.some((i) => i.capacityProvider === name))
    )
      return true;
  }
  return false;
}
