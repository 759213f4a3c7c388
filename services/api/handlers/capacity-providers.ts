import { z } from "zod";
import { AutoScalingGroupProvider, ManagedScaling } from "../../../events/account.events.ts";
import { arns, isArn, parseArn, type Scope } from "../../../events/arns.ts";
import { activeProvider } from "../../../machines/account/account.decide.ts";
import type { CapacityProviderRecord } from "../../../machines/account/account.machine.ts";
import {
  BUILT_IN_PROVIDERS,
  isBuiltIn,
  NO_AUTO_SCALING,
  newAutoScalingGroupProvider,
  validateManagedScaling,
  validateProviderName,
} from "../../../machines/account/capacity-providers.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput } from "../errors.ts";
import { paginate } from "../paging.ts";
import { compact } from "../render.ts";
import { activeCluster } from "../resolve.ts";
import { TagList, validateTags } from "../tags.ts";
import { accountSnapshot, runAccountCommand, SMALL_PAGE, smallPageSize } from "./account.ts";

/**
 * Capacity providers. FARGATE and FARGATE_SPOT always exist. Auto Scaling group providers can be
 * created, updated, described and deleted, and are stored as facts — but Berth has no Auto Scaling
 * groups, so nothing ever scales: tasks that use such a provider run on the cluster's registered
 * container instances (each provider says so in its updateStatusReason).
 */

const reject = (r: { code: string; message: string } | undefined) => {
  if (r) throw new EcsError(r.code, r.message);
};

/** A provider name from a name or a capacity-provider ARN of this region. */
export function providerName(value: string, ctx: RequestContext): string {
  if (!isArn(value)) return value;
  const p = parseArn(value);
  if (p?.kind !== "capacity-provider" || p.region !== ctx.region || p.path.length !== 1)
    throw invalid(`${value} is not a valid capacity provider ARN.`);
  return p.path[0] as string;
}

/** Can clusters of this region use the provider (built in, or created and not deleted)? */
export function capacityProviderExists(s: ApiServices, region: string, name: string): boolean {
  return isBuiltIn(name) || activeProvider(accountSnapshot(s, region), name) !== undefined;
}

/** Names of the ACTIVE clusters of the region that have the provider associated. */
export function clustersUsing(s: ApiServices, region: string, name: string): string[] {
  const out: string[] = [];
  for (const c of s.model.clusters.values())
    if (c.region === region && c.snapshot.value === "ACTIVE" && c.snapshot.context.capacityProviders.includes(name))
      out.push(c.snapshot.context.clusterName);
  return out.sort();
}

function renderBuiltIn(scope: Scope, name: string, tags: boolean) {
  return compact({
    capacityProviderArn: arns.capacityProvider(scope, name),
    name,
    status: "ACTIVE",
    tags: tags ? [] : undefined,
    type: name,
  });
}

const UPDATE_STATUS = {
  CREATE: "CREATE_COMPLETE",
  UPDATE: "UPDATE_COMPLETE",
  DELETE: "DELETE_COMPLETE",
  DELETE_FAILED: "DELETE_FAILED",
} as const;

export function renderProvider(p: CapacityProviderRecord, tags: boolean) {
  return compact({
    capacityProviderArn: p.capacityProviderArn,
    name: p.name,
    status: p.status,
    autoScalingGroupProvider: p.autoScalingGroupProvider,
    updateStatus: UPDATE_STATUS[p.lastChange],
    updateStatusReason: p.failureReason ?? NO_AUTO_SCALING,
    tags: tags ? p.tags : undefined,
    type: "EC2_AUTOSCALING",
  });
}

function recordOf(s: ApiServices, region: string, name: string): CapacityProviderRecord | undefined {
  return accountSnapshot(s, region).context.capacityProviders.find((p) => p.name === name);
}

const ManagedInstances = z.unknown().optional();

const CreateCapacityProviderInput = z.object({
  name: z.string(),
  cluster: z.string().optional(),
  autoScalingGroupProvider: AutoScalingGroupProvider.optional(),
  managedInstancesProvider: ManagedInstances,
  tags: TagList.optional(),
});

export const CreateCapacityProvider: Handler = async (raw, ctx, s) => {
  const input = parseInput(CreateCapacityProviderInput, raw);
  if (input.managedInstancesProvider !== undefined)
    throw new EcsError("UnsupportedFeatureException", "Berth has no Amazon ECS Managed Instances capacity providers.");
  reject(validateProviderName(input.name));
  const asg = input.autoScalingGroupProvider;
  if (!asg) throw invalid("autoScalingGroupProvider is required for a capacity provider.");
  validateAutoScalingGroupArn(asg.autoScalingGroupArn);
  reject(validateManagedScaling(asg.managedScaling));
  const tags = validateTags(input.tags);
  const capacityProviderArn = arns.capacityProvider(ctx.scope, input.name);
  const state = await runAccountCommand(
    {
      type: "CreateCapacityProvider",
      event: {
        type: "CapacityProviderCreated",
        at: ctx.now,
        name: input.name,
        capacityProviderArn,
        autoScalingGroupProvider: newAutoScalingGroupProvider(asg),
        tags,
      },
    },
    capacityProviderArn,
    ctx,
    s,
  );
  return { capacityProvider: renderProvider(activeProvider(state, input.name)!, true) };
};

/** An Auto Scaling group ARN (`arn:aws:autoscaling:…:autoScalingGroup:…`) or a group name. */
function validateAutoScalingGroupArn(value: string) {
  const ok = value.startsWith("arn:")
    ? /^arn:aws[a-z-]*:autoscaling:[a-z0-9-]+:\d{12}:autoScalingGroup:[^\s]+$/.test(value)
    : /^[^\s:][^:]{0,254}$/.test(value);
  if (!ok) throw invalid(`autoScalingGroupArn ${value} is not a valid Auto Scaling group ARN or name.`);
}

const UpdateCapacityProviderInput = z.object({
  name: z.string(),
  cluster: z.string().optional(),
  autoScalingGroupProvider: z
    .strictObject({
      managedScaling: ManagedScaling.optional(),
      managedTerminationProtection: z.enum(["ENABLED", "DISABLED"]).optional(),
      managedDraining: z.enum(["ENABLED", "DISABLED"]).optional(),
    })
    .optional(),
  managedInstancesProvider: ManagedInstances,
});

export const UpdateCapacityProvider: Handler = async (raw, ctx, s) => {
  const input = parseInput(UpdateCapacityProviderInput, raw);
  if (input.managedInstancesProvider !== undefined)
    throw new EcsError("UnsupportedFeatureException", "Berth has no Amazon ECS Managed Instances capacity providers.");
  const name = providerName(input.name, ctx);
  if (!input.autoScalingGroupProvider)
    throw invalid("autoScalingGroupProvider is required to update a capacity provider.");
  reject(validateManagedScaling(input.autoScalingGroupProvider.managedScaling));
  const state = await runAccountCommand(
    { type: "UpdateCapacityProvider", at: ctx.now, name, update: input.autoScalingGroupProvider },
    arns.capacityProvider(ctx.scope, name),
    ctx,
    s,
  );
  return { capacityProvider: renderProvider(activeProvider(state, name)!, true) };
};

const DeleteCapacityProviderInput = z.object({ capacityProvider: z.string(), cluster: z.string().optional() });

export const DeleteCapacityProvider: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeleteCapacityProviderInput, raw);
  const name = providerName(input.capacityProvider, ctx);
  await runAccountCommand(
    { type: "DeleteCapacityProvider", at: ctx.now, name, associatedWith: clustersUsing(s, ctx.region, name) },
    arns.capacityProvider(ctx.scope, name),
    ctx,
    s,
  );
  return { capacityProvider: renderProvider(recordOf(s, ctx.region, name)!, true) };
};

const DescribeCapacityProvidersInput = z.object({
  capacityProviders: z.array(z.string()).max(100).optional(),
  cluster: z.string().optional(),
  include: z.array(z.enum(["TAGS"])).optional(),
  maxResults: z.number().int().optional(),
  nextToken: z.string().optional(),
});

export const DescribeCapacityProviders: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeCapacityProvidersInput, raw);
  smallPageSize(input.maxResults);
  const tags = input.include?.includes("TAGS") ?? false;
  const associated =
    input.cluster !== undefined
      ? activeCluster(input.cluster, ctx, s).agg.snapshot.context.capacityProviders
      : undefined;
  const inScope = (name: string) => associated === undefined || associated.includes(name);
  const render = (name: string) => {
    if (isBuiltIn(name)) return renderBuiltIn(ctx.scope, name, tags);
    const p = recordOf(s, ctx.region, name);
    return p ? renderProvider(p, tags) : undefined;
  };

  if (input.capacityProviders && input.capacityProviders.length > 0) {
    const capacityProviders: unknown[] = [];
    const failures: { arn: string; reason: string }[] = [];
    for (const value of input.capacityProviders) {
      let name: string;
      try {
        name = providerName(value, ctx);
      } catch {
        failures.push({ arn: value, reason: "MISSING" });
        continue;
      }
      const out = inScope(name) ? render(name) : undefined;
      if (out) capacityProviders.push(out);
      else failures.push({ arn: arns.capacityProvider(ctx.scope, name), reason: "MISSING" });
    }
    return { capacityProviders, failures };
  }

  // Everything in use: the account's ACTIVE providers by name, then the built-in ones (ECS's order).
  const names = [
    ...accountSnapshot(s, ctx.region)
      .context.capacityProviders.filter((p) => p.status === "ACTIVE")
      .map((p) => p.name)
      .sort(),
    ...BUILT_IN_PROVIDERS,
  ].filter(inScope);
  const { page, nextToken } = paginate(names, input, { c: input.cluster ?? null, t: tags }, SMALL_PAGE);
  return { capacityProviders: page.map(render), failures: [], ...(nextToken ? { nextToken } : {}) };
};
