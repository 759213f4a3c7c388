import { z } from "zod";
import { arns } from "../../../events/arns.ts";
import { ClusterConfiguration, ClusterSetting } from "../../../events/cluster.events.ts";
import { CapacityProviderStrategyItem } from "../../../events/shapes.ts";
import { validateStrategy } from "../../../machines/account/capacity-providers.ts";
import { decideCluster, initialCluster } from "../../../machines/cluster/cluster.decide.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { clusterCounts, liveTaskCount } from "../counts.ts";
import { invalid, parseInput, unwrap } from "../errors.ts";
import { paginate } from "../paging.ts";
import { renderCluster } from "../render.ts";
import { activeCluster, clusterRef } from "../resolve.ts";
import { TagList, validateTags } from "../tags.ts";
import { defaultClusterSettings } from "./account.ts";
import { capacityProviderExists } from "./capacity-providers.ts";

const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const Include = z.array(z.enum(["ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS"])).optional();

const CreateClusterInput = z.object({
  clusterName: z.string().optional(),
  tags: TagList.optional(),
  settings: z.array(ClusterSetting).optional(),
  configuration: ClusterConfiguration.optional(),
  capacityProviders: z.array(z.string()).optional(),
  defaultCapacityProviderStrategy: z.array(CapacityProviderStrategyItem).optional(),
  serviceConnectDefaults: z.object({ namespace: z.string() }).optional(),
});

function describe(s: ApiServices, ctx: RequestContext, name: string, include: ReadonlySet<string>) {
  const ref = clusterRef(name, ctx, s);
  if (!ref.agg) throw new Error(`cluster ${name} missing from the read model after a write`);
  return renderCluster(ref.agg, clusterCounts(s.model, ref.subject), include);
}

export const CreateCluster: Handler = async (raw, ctx, s) => {
  const input = parseInput(CreateClusterInput, raw);
  const name = input.clusterName ?? "default";
  if (!CLUSTER_NAME.test(name))
    throw invalid("Cluster name can only contain letters, numbers, hyphens and underscores (1-255 characters).");
  const tags = validateTags(input.tags);
  for (const p of input.capacityProviders ?? [])
    if (!capacityProviderExists(s, ctx.region, p)) throw invalid(`The specified capacity provider ${p} does not exist.`);
  const strategy = validateStrategy(input.defaultCapacityProviderStrategy ?? [], input.capacityProviders ?? []);
  if (!strategy.ok) throw invalid(strategy.rejection.message);
  const ref = clusterRef(name, ctx, s);
  await unwrap(
    s.bus.execute({
      subject: ref.subject,
      resource: ref.arn,
      get: () => s.model.clusters.get(ref.subject),
      initial: initialCluster,
      decide: (state) =>
        decideCluster(
          {
            type: "CreateCluster",
            event: {
              type: "ClusterCreated",
              at: ctx.now,
              clusterArn: ref.arn,
              clusterName: name,
              settings: input.settings ?? defaultClusterSettings(s, ctx),
              configuration: input.configuration,
              capacityProviders: input.capacityProviders ?? [],
              defaultCapacityProviderStrategy: strategy.strategy,
              serviceConnectDefaults: input.serviceConnectDefaults,
              tags,
            },
          },
          state,
        ),
      meta: { correlationid: ctx.requestId },
    }),
  );
  return { cluster: describe(s, ctx, name, new Set(["TAGS", "SETTINGS", "CONFIGURATIONS"])) };
};

const DescribeClustersInput = z.object({ clusters: z.array(z.string()).max(100).optional(), include: Include });

export const DescribeClusters: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeClustersInput, raw);
  const include = new Set(input.include ?? []);
  const clusters: unknown[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const value of input.clusters ?? ["default"]) {
    let ref: ReturnType<typeof clusterRef> | undefined;
    try {
      ref = clusterRef(value, ctx, s);
    } catch {
      failures.push({ arn: value, reason: "MISSING" });
      continue;
    }
    if (!ref.agg || ref.agg.snapshot.value === "NEW") failures.push({ arn: ref.arn, reason: "MISSING" });
    else clusters.push(renderCluster(ref.agg, clusterCounts(s.model, ref.subject), include));
  }
  return { clusters, failures };
};

const ListClustersInput = z.object({ nextToken: z.string().optional(), maxResults: z.number().int().optional() });

export const ListClusters: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListClustersInput, raw);
  const all = [...s.model.clusters.values()]
    .filter((c) => c.region === ctx.region && c.snapshot.value === "ACTIVE")
    .map((c) => arns.cluster(ctx.scope, c.snapshot.context.clusterName))
    .sort();
  const { page, nextToken } = paginate(all, input, { region: ctx.region });
  return { clusterArns: page, ...(nextToken ? { nextToken } : {}) };
};

const DeleteClusterInput = z.object({ cluster: z.string() });

export const DeleteCluster: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeleteClusterInput, raw);
  const ref = activeCluster(input.cluster, ctx, s);
  await unwrap(
    s.bus.execute({
      subject: ref.subject,
      resource: ref.arn,
      get: () => s.model.clusters.get(ref.subject),
      initial: initialCluster,
      decide: (state) => {
        const counts = clusterCounts(s.model, ref.subject);
        return decideCluster(
          {
            type: "DeleteCluster",
            at: ctx.now,
            holdings: {
              activeServices: counts.activeServicesCount,
              instances: counts.registeredContainerInstancesCount,
              tasks: liveTaskCount(s.model, ref.subject),
            },
          },
          state,
        );
      },
      meta: { correlationid: ctx.requestId },
    }),
  );
  return { cluster: describe(s, ctx, ref.name, new Set()) };
};
