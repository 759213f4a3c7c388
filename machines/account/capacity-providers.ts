import type { AutoScalingGroupProvider, ManagedScaling } from "../../events/account.events.ts";
import type { CapacityProviderStrategyItem, LaunchType } from "../../events/shapes.ts";
import type { Rejection } from "../decider.ts";

/**
 * Capacity provider rules (pure). Berth has no Auto Scaling groups: a provider is recorded with
 * its settings exactly as ECS would show them, and tasks that use it run on the cluster's
 * registered container instances; nothing is ever scaled.
 */

/** Present in every region and account; they can be associated with clusters but never changed. */
export const BUILT_IN_PROVIDERS = ["FARGATE", "FARGATE_SPOT"] as const;
export const isBuiltIn = (name: string) => (BUILT_IN_PROVIDERS as readonly string[]).includes(name);

export const NO_AUTO_SCALING =
  "Berth has no Auto Scaling groups: this capacity provider is recorded, and tasks that use it run on the cluster's registered container instances.";

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

const invalid = (message: string): Rejection => ({ code: "InvalidParameterException", message });

export function validateProviderName(name: string): Rejection | undefined {
  if (!NAME.test(name))
    return invalid(
      "The capacity provider name can only contain letters, numbers, underscores and hyphens (1-255 characters).",
    );
  if (/^(aws|ecs|fargate)/i.test(name))
    return invalid('The capacity provider name can\'t be prefixed with "aws", "ecs", or "fargate".');
  return undefined;
}

/** ManagedScaling ranges from the API model; step sizes also have to be in order. */
export function validateManagedScaling(m: ManagedScaling | undefined): Rejection | undefined {
  if (!m) return undefined;
  const range = (v: number | undefined, lo: number, hi: number, what: string) =>
    v !== undefined && (v < lo || v > hi)
      ? invalid(`managedScaling.${what} must be between ${lo} and ${hi}.`)
      : undefined;
  return (
    range(m.targetCapacity, 1, 100, "targetCapacity") ??
    range(m.minimumScalingStepSize, 1, 10000, "minimumScalingStepSize") ??
    range(m.maximumScalingStepSize, 1, 10000, "maximumScalingStepSize") ??
    range(m.instanceWarmupPeriod, 0, 10000, "instanceWarmupPeriod") ??
    ((m.minimumScalingStepSize ?? 1) > (m.maximumScalingStepSize ?? 10000)
      ? invalid("managedScaling.minimumScalingStepSize must not be greater than maximumScalingStepSize.")
      : undefined)
  );
}

/** ECS's documented defaults for managed scaling (step sizes 1 and 10000, 300 s warm-up, target 100). */
export function withScalingDefaults(m: ManagedScaling | undefined): ManagedScaling | undefined {
  if (!m) return undefined;
  return {
    status: m.status ?? "ENABLED",
    targetCapacity: m.targetCapacity ?? 100,
    minimumScalingStepSize: m.minimumScalingStepSize ?? 1,
    maximumScalingStepSize: m.maximumScalingStepSize ?? 10000,
    instanceWarmupPeriod: m.instanceWarmupPeriod ?? 300,
  };
}

/** The provider as stored on creation: defaults filled in (termination protection is off unless asked). */
export function newAutoScalingGroupProvider(p: AutoScalingGroupProvider): AutoScalingGroupProvider {
  const managedScaling = withScalingDefaults(p.managedScaling);
  return {
    autoScalingGroupArn: p.autoScalingGroupArn,
    ...(managedScaling ? { managedScaling } : {}),
    managedTerminationProtection: p.managedTerminationProtection ?? "DISABLED",
    ...(p.managedDraining ? { managedDraining: p.managedDraining } : {}),
  };
}

/** UpdateCapacityProvider: given members replace the current ones; managedScaling merges member-wise. */
export function updatedAutoScalingGroupProvider(
  current: AutoScalingGroupProvider,
  update: Omit<AutoScalingGroupProvider, "autoScalingGroupArn">,
): AutoScalingGroupProvider {
  const managedScaling = update.managedScaling
    ? withScalingDefaults({ ...current.managedScaling, ...update.managedScaling })
    : current.managedScaling;
  return {
    ...current,
    ...(managedScaling ? { managedScaling } : {}),
    ...(update.managedTerminationProtection
      ? { managedTerminationProtection: update.managedTerminationProtection }
      : {}),
    ...(update.managedDraining ? { managedDraining: update.managedDraining } : {}),
  };
}

/**
 * A cluster's default strategy (PutClusterCapacityProviders): ≤20 items, each provider associated
 * with the cluster and named once, weight 0–1000, base 0–100000 and a base on one item at most;
 * Fargate and Auto Scaling group providers are not mixed. Returned with ECS's defaults (0) filled.
 */
export function validateStrategy(
  strategy: readonly CapacityProviderStrategyItem[],
  associated: readonly string[],
): { ok: true; strategy: Required<CapacityProviderStrategyItem>[] } | { ok: false; rejection: Rejection } {
  const fail = (message: string) => ({ ok: false as const, rejection: invalid(message) });
  if (strategy.length > 20) return fail("A capacity provider strategy can contain at most 20 capacity providers.");
  const seen = new Set<string>();
  for (const item of strategy) {
    if (!associated.includes(item.capacityProvider))
      return fail(
        `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster (${item.capacityProvider}). Associate the capacity provider with the cluster or specify a valid capacity provider and try again.`,
      );
    if (seen.has(item.capacityProvider))
      return fail(`The capacity provider ${item.capacityProvider} appears more than once in the strategy.`);
    seen.add(item.capacityProvider);
    if (item.weight !== undefined && (item.weight < 0 || item.weight > 1000))
      return fail("weight must be between 0 and 1000.");
    if (item.base !== undefined && (item.base < 0 || item.base > 100000))
      return fail("base must be between 0 and 100000.");
  }
  if (strategy.filter((i) => (i.base ?? 0) > 0).length > 1)
    return fail("Only one capacity provider in a capacity provider strategy can have a base defined.");
  const fargate = strategy.filter((i) => isBuiltIn(i.capacityProvider)).length;
  if (fargate > 0 && fargate < strategy.length)
    return fail("A capacity provider strategy cannot contain both Fargate and Auto Scaling group capacity providers.");
  return { ok: true, strategy: withStrategyDefaults(strategy) };
}

/**
 * A capacity provider strategy as ECS echoes it (cluster defaults, services, their deployments):
 * every item with its weight and base, 0 where the request left them out (the model's defaults).
 * Does not modify its input.
 */
export function withStrategyDefaults(strategy: readonly CapacityProviderStrategyItem[]): Required<CapacityProviderStrategyItem>[] {
  return strategy.map((i) => ({ capacityProvider: i.capacityProvider, weight: i.weight ?? 0, base: i.base ?? 0 }));
}

/**
 * The launch type a capacity provider strategy's tasks run with: FARGATE on Fargate's providers,
 * EC2 on an Auto Scaling group's (a strategy does not mix the two: validateStrategy).
 */
export const strategyLaunchType = (strategy: readonly CapacityProviderStrategyItem[]): "EC2" | "FARGATE" =>
  strategy[0] !== undefined && isBuiltIn(strategy[0].capacityProvider) ? "FARGATE" : "EC2";

/**
 * The capacity provider strategy a RunTask, CreateService or UpdateService call runs with, as ECS
 * chooses it: the call's own (its providers associated with the cluster, validateStrategy), else
 * none when it names a launch type, else the cluster's default strategy (none when that is empty;
 * `useDefault: false` for UpdateService, which keeps the service's). Defaults (0) filled in.
 */
export function strategyToRun(
  input: { launchType?: string | undefined; capacityProviderStrategy?: readonly CapacityProviderStrategyItem[] | undefined },
  cluster: { capacityProviders: readonly string[]; defaultCapacityProviderStrategy: readonly CapacityProviderStrategyItem[] },
  useDefault = true,
): { ok: true; strategy: Required<CapacityProviderStrategyItem>[] | undefined } | { ok: false; rejection: Rejection } {
  if (input.capacityProviderStrategy) return validateStrategy(input.capacityProviderStrategy, cluster.capacityProviders);
  if (!useDefault || input.launchType !== undefined || cluster.defaultCapacityProviderStrategy.length === 0)
    return { ok: true, strategy: undefined };
  return { ok: true, strategy: withStrategyDefaults(cluster.defaultCapacityProviderStrategy) };
}

/** The launch type a service deployment's tasks run with: its own, else its strategy's, else EC2. */
export const deploymentLaunchType = (
  d: { launchType?: LaunchType | undefined; capacityProviderStrategy?: readonly CapacityProviderStrategyItem[] | undefined } | undefined,
): LaunchType => d?.launchType ?? (d?.capacityProviderStrategy?.length ? strategyLaunchType(d.capacityProviderStrategy) : "EC2");
