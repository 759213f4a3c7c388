import { randomInt } from "node:crypto";
import { z } from "zod";
import { arns, isArn, parseArn } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { DeploymentConfiguration, type DeploymentSpec, LoadBalancer, ServiceRegistry, type ServiceSettings } from "../../../events/service.events.ts";
import {
  CapacityProviderStrategyItem,
  LaunchType,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
} from "../../../events/shapes.ts";
import { deploymentLaunchType, strategyToRun, withStrategyDefaults } from "../../../machines/account/capacity-providers.ts";
import { checkPlacement } from "../../../machines/placement/request.ts";
import { decideService, initialService, type ServiceCommand, type ServiceSnapshot } from "../../../machines/service/service.decide.ts";
import type { Agg } from "../../control-plane/read-model.ts";
import { daemonInstances } from "../../scheduler/views.ts";
import { type ApiServices, callerArn, type Handler, type RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput, rejectWith, unwrap } from "../errors.ts";
import { paginate } from "../paging.ts";
import { renderService } from "../render-service.ts";
import { activeCluster, requireName } from "../resolve.ts";
import { TagList, validateTags } from "../tags.ts";
import { resolveTaskDefinition, TASK_DEFINITION_NOT_FOUND_TO_RUN } from "./taskdefs.ts";

/** ECS's "tasks per service" quota (5,000): a larger desired count is refused, as ECS refuses it. */
const MAX_DESIRED_COUNT = 5_000;

const serviceNotFound = () => new EcsError("ServiceNotFoundException", "Service not found.");

/** Deployment ids look like ECS's: `ecs-svc/` and 19 digits. */
export function deploymentId(): string {
  let digits = String(randomInt(1, 10));
  while (digits.length < 19) digits += String(randomInt(0, 10));
  return `ecs-svc/${digits}`;
}

function serviceName(value: string, cluster: string, ctx: RequestContext): string {
  if (!isArn(value)) return value;
  const p = parseArn(value);
  if (p?.kind !== "service" || p.region !== ctx.region || p.account !== ctx.scope.account) throw serviceNotFound();
  if (p.path.length === 2 && p.path[0] !== cluster) throw serviceNotFound();
  return p.path[p.path.length - 1] as string;
}

export function serviceAgg(value: string, cluster: { name: string }, ctx: RequestContext, s: ApiServices) {
  const name = serviceName(value, cluster.name, ctx);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw serviceNotFound();
  const subject = subjects.service(ctx.region, cluster.name, name);
  return { name, subject, agg: s.model.services.get(subject) };
}

/** A service the cluster has or had (any status but NEW), else ECS's ServiceNotFoundException. */
export function existingService(value: string, cluster: { name: string }, ctx: RequestContext, s: ApiServices) {
  const { name, subject, agg } = serviceAgg(value, cluster, ctx, s);
  if (!agg || agg.snapshot.value === "NEW") throw serviceNotFound();
  return { name, subject, agg };
}

/** Decides `command` on the service at `subject` and appends its events (fenced); ECS's error when refused. */
export function commandService(s: ApiServices, ctx: RequestContext, subject: string, resource: string, command: ServiceCommand) {
  return unwrap(
    s.bus.execute({
      subject,
      resource,
      get: () => s.model.services.get(subject),
      initial: initialService,
      decide: (state) => decideService(command, state),
      meta: { correlationid: ctx.requestId },
    }),
  );
}

function render(agg: Agg<ServiceSnapshot>, s: ApiServices, now: number, include: ReadonlySet<string> = new Set()) {
  const ctx = agg.snapshot.context;
  const daemon =
    ctx.schedulingStrategy === "DAEMON"
      ? daemonInstances(s.model, subjects.cluster(agg.region, ctx.cluster), ctx.settings.placementConstraints, deploymentLaunchType(ctx.deployments[0])).length
      : undefined;
  return renderService(agg, s.model, now, include, daemon);
}

function validateDeploymentConfiguration(c: z.infer<typeof DeploymentConfiguration> | undefined, daemon: boolean) {
  if (!c) return;
  const { minimumHealthyPercent: min, maximumPercent: max } = c;
  if (min !== undefined && (min < 0 || min > 100)) throw invalid("minimumHealthyPercent must be between 0 and 100.");
  if (max !== undefined && max < 100 && !daemon) throw invalid("maximumPercent must be at least 100.");
  if (daemon && max !== undefined && max !== 100) throw invalid("The daemon scheduling strategy requires a maximumPercent of 100.");
  if (min !== undefined && max !== undefined && max < min) throw invalid("maximumPercent must be greater than or equal to minimumHealthyPercent.");
}

const CreateServiceInput = z.object({
  serviceName: z.string(),
  cluster: z.string().optional(),
  taskDefinition: z.string().optional(),
  desiredCount: z.number().int().optional(),
  launchType: LaunchType.optional(),
  capacityProviderStrategy: z.array(CapacityProviderStrategyItem).max(20).optional(),
  platformVersion: z.string().optional(),
  role: z.string().optional(),
  loadBalancers: z.array(LoadBalancer).optional(),
  serviceRegistries: z.array(ServiceRegistry).max(1).optional(),
  clientToken: z.string().max(36).optional(),
  deploymentConfiguration: DeploymentConfiguration.optional(),
  placementConstraints: z.array(PlacementConstraint).max(10).optional(),
  placementStrategy: z.array(PlacementStrategy).max(5).optional(),
  networkConfiguration: NetworkConfiguration.optional(),
  healthCheckGracePeriodSeconds: z.number().int().min(0).max(2147483647).optional(),
  schedulingStrategy: z.enum(["REPLICA", "DAEMON"]).optional(),
  deploymentController: z.object({ type: z.enum(["ECS", "CODE_DEPLOY", "EXTERNAL"]) }).optional(),
  tags: TagList.optional(),
  enableECSManagedTags: z.boolean().optional(),
  propagateTags: z.enum(["TASK_DEFINITION", "SERVICE", "NONE"]).optional(),
  enableExecuteCommand: z.boolean().optional(),
  availabilityZoneRebalancing: z.enum(["ENABLED", "DISABLED"]).optional(),
  serviceConnectConfiguration: z.unknown().optional(),
  volumeConfigurations: z.array(z.unknown()).optional(),
  vpcLatticeConfigurations: z.array(z.unknown()).optional(),
});

export const CreateService: Handler = async (raw, ctx, s) => {
  const input = parseInput(CreateServiceInput, raw);
  requireName(input.serviceName, "Service name");
  const cluster = activeCluster(input.cluster, ctx, s);
  const strategy = input.schedulingStrategy ?? "REPLICA";
  const controller = input.deploymentController?.type ?? "ECS";
  if (controller !== "ECS") throw new EcsError("UnsupportedFeatureException", `The ${controller} deployment controller is not supported by Berth.`);
  if (input.launchType && input.capacityProviderStrategy)
    throw invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
  if (strategy === "DAEMON") {
    if (input.desiredCount !== undefined)
      throw invalid("The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again");
    if (input.placementStrategy?.length) throw invalid("The daemon scheduling strategy does not support placement strategies.");
    if (input.launchType === "FARGATE") throw invalid("The daemon scheduling strategy is not supported with the FARGATE launch type.");
  } else if (input.desiredCount === undefined) throw invalid("desiredCount is required for services with the REPLICA scheduling strategy.");
  if (input.desiredCount !== undefined && input.desiredCount < 0) throw invalid("desiredCount must be 0 or more.");
  if (input.desiredCount !== undefined && input.desiredCount > MAX_DESIRED_COUNT) throw invalid("Desired count exceeds limit.");
  if (!input.taskDefinition) throw invalid("taskDefinition is required.");
  validateDeploymentConfiguration(input.deploymentConfiguration, strategy === "DAEMON");
  rejectWith(checkPlacement(input.placementConstraints, input.placementStrategy));
  const tags = validateTags(input.tags);
  let definition: ReturnType<typeof resolveTaskDefinition>;
  try {
    definition = resolveTaskDefinition(input.taskDefinition, ctx, s, { requireActive: true });
  } catch {
    throw new EcsError("ClientException", TASK_DEFINITION_NOT_FOUND_TO_RUN);
  }
  // A daemon runs on the cluster's instances, one each: the cluster's default strategy is not its.
  const providers = strategyToRun(input, cluster.agg.snapshot.context, strategy !== "DAEMON");
  if (!providers.ok) throw new EcsError(providers.rejection.code, providers.rejection.message);
  const launchType = deploymentLaunchType({ launchType: input.launchType, capacityProviderStrategy: providers.strategy });
  if ((definition.networkMode ?? "bridge") === "awsvpc" && !input.networkConfiguration?.awsvpcConfiguration)
    throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (launchType === "FARGATE" && !definition.compatibilities.includes("FARGATE"))
    throw invalid("Task definition does not support launch_type FARGATE.");

  const name = input.serviceName;
  const subject = subjects.service(ctx.region, cluster.name, name);
  const serviceArn = arns.service(ctx.scope, cluster.name, name);
  const settings: ServiceSettings = {
    desiredCount: input.desiredCount ?? 0,
    deploymentConfiguration: input.deploymentConfiguration ?? {},
    placementConstraints: input.placementConstraints ?? [],
    placementStrategy: input.placementStrategy ?? [],
    healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds,
    enableECSManagedTags: input.enableECSManagedTags ?? false,
    propagateTags: input.propagateTags ?? "NONE",
    enableExecuteCommand: input.enableExecuteCommand ?? false,
    availabilityZoneRebalancing: input.availabilityZoneRebalancing ?? (strategy === "REPLICA" ? "ENABLED" : "DISABLED"),
    loadBalancers: input.loadBalancers ?? [],
    serviceRegistries: input.serviceRegistries ?? [],
  };
  const deployment: DeploymentSpec = {
    id: deploymentId(),
    taskDefinition: definition.taskDefinitionArn,
    launchType: providers.strategy ? undefined : launchType,
    capacityProviderStrategy: providers.strategy,
    platformVersion: input.platformVersion,
    networkConfiguration: input.networkConfiguration,
  };
  await commandService(s, ctx, subject, serviceArn, {
    type: "CreateService",
    event: {
      type: "ServiceCreated",
      at: ctx.now,
      serviceArn,
      serviceName: name,
      clusterArn: cluster.arn,
      cluster: cluster.name,
      schedulingStrategy: strategy,
      deploymentController: controller,
      roleArn: input.role ?? `arn:aws:iam::${ctx.scope.account}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
      createdBy: callerArn(ctx),
      clientToken: input.clientToken,
      settings,
      deployment,
      tags,
    },
  });
  // ECS's answer shows the tags a service was created with (DescribeServices only with include TAGS).
  return { service: render(s.model.services.get(subject)!, s, ctx.now, new Set(tags.length ? ["TAGS"] : [])) };
};

const UpdateServiceInput = z.object({
  service: z.string(),
  cluster: z.string().optional(),
  desiredCount: z.number().int().optional(),
  taskDefinition: z.string().optional(),
  capacityProviderStrategy: z.array(CapacityProviderStrategyItem).max(20).optional(),
  deploymentConfiguration: DeploymentConfiguration.optional(),
  availabilityZoneRebalancing: z.enum(["ENABLED", "DISABLED"]).optional(),
  networkConfiguration: NetworkConfiguration.optional(),
  placementConstraints: z.array(PlacementConstraint).max(10).optional(),
  placementStrategy: z.array(PlacementStrategy).max(5).optional(),
  platformVersion: z.string().optional(),
  forceNewDeployment: z.boolean().optional(),
  healthCheckGracePeriodSeconds: z.number().int().min(0).optional(),
  deploymentController: z.object({ type: z.enum(["ECS", "CODE_DEPLOY", "EXTERNAL"]) }).optional(),
  enableExecuteCommand: z.boolean().optional(),
  enableECSManagedTags: z.boolean().optional(),
  loadBalancers: z.array(LoadBalancer).optional(),
  propagateTags: z.enum(["TASK_DEFINITION", "SERVICE", "NONE"]).optional(),
  serviceRegistries: z.array(ServiceRegistry).optional(),
  serviceConnectConfiguration: z.unknown().optional(),
  volumeConfigurations: z.array(z.unknown()).optional(),
  vpcLatticeConfigurations: z.array(z.unknown()).optional(),
});

export const UpdateService: Handler = async (raw, ctx, s) => {
  const input = parseInput(UpdateServiceInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  const { subject, agg } = existingService(input.service, cluster, ctx, s);
  if (agg.snapshot.value !== "ACTIVE") throw new EcsError("ServiceNotActiveException", "Service was not ACTIVE.");
  const current = agg.snapshot.context;
  const daemon = current.schedulingStrategy === "DAEMON";
  if (daemon && input.desiredCount !== undefined)
    throw invalid("The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again");
  if (input.desiredCount !== undefined && input.desiredCount < 0) throw invalid("desiredCount must be 0 or more.");
  if (input.desiredCount !== undefined && input.desiredCount > MAX_DESIRED_COUNT) throw invalid("Desired count exceeds limit.");
  const merged = input.deploymentConfiguration
    ? { ...current.settings.deploymentConfiguration, ...input.deploymentConfiguration }
    : undefined;
  validateDeploymentConfiguration(merged, daemon);
  rejectWith(checkPlacement(input.placementConstraints, input.placementStrategy));

  const settings: Partial<ServiceSettings> = {};
  if (input.desiredCount !== undefined) settings.desiredCount = input.desiredCount;
  if (merged) settings.deploymentConfiguration = merged;
  if (input.placementConstraints) settings.placementConstraints = input.placementConstraints;
  if (input.placementStrategy) settings.placementStrategy = input.placementStrategy;
  if (input.healthCheckGracePeriodSeconds !== undefined) settings.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
  if (input.enableExecuteCommand !== undefined) settings.enableExecuteCommand = input.enableExecuteCommand;
  if (input.enableECSManagedTags !== undefined) settings.enableECSManagedTags = input.enableECSManagedTags;
  if (input.propagateTags) settings.propagateTags = input.propagateTags;
  if (input.availabilityZoneRebalancing) settings.availabilityZoneRebalancing = input.availabilityZoneRebalancing;
  if (input.loadBalancers) settings.loadBalancers = input.loadBalancers;
  if (input.serviceRegistries) settings.serviceRegistries = input.serviceRegistries;

  const primary = current.deployments[0];
  let deployment: DeploymentSpec | undefined;
  const td = input.taskDefinition ? resolveTaskDefinition(input.taskDefinition, ctx, s, { requireActive: true }).taskDefinitionArn : undefined;
  const providers = strategyToRun(input, cluster.agg.snapshot.context, false);
  if (!providers.ok) throw new EcsError(providers.rejection.code, providers.rejection.message);
  const strategy = providers.strategy;
  const changed =
    (td !== undefined && td !== primary?.taskDefinition) ||
    input.forceNewDeployment === true ||
    (input.networkConfiguration !== undefined && JSON.stringify(input.networkConfiguration) !== JSON.stringify(primary?.networkConfiguration)) ||
    (input.platformVersion !== undefined && input.platformVersion !== primary?.platformVersion) ||
    (strategy !== undefined && JSON.stringify(strategy) !== JSON.stringify(withStrategyDefaults(primary?.capacityProviderStrategy ?? [])));
  if (changed && primary) {
    const { rollbackOf: _r, revision: _v, ...base } = primary;
    deployment = {
      ...base,
      id: deploymentId(),
      taskDefinition: td ?? primary.taskDefinition,
      ...(input.networkConfiguration ? { networkConfiguration: input.networkConfiguration } : {}),
      ...(input.platformVersion ? { platformVersion: input.platformVersion } : {}),
      ...(strategy ? { capacityProviderStrategy: strategy, launchType: undefined } : {}),
    };
  }
  await commandService(s, ctx, subject, current.serviceArn, {
    type: "UpdateService",
    at: ctx.now,
    settings,
    ...(deployment ? { deployment } : {}),
  });
  return { service: render(s.model.services.get(subject)!, s, ctx.now) };
};

const DeleteServiceInput = z.object({
  service: z.string(),
  cluster: z.string().optional(),
  force: z.boolean().optional(),
});

export const DeleteService: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeleteServiceInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  const { subject, agg } = existingService(input.service, cluster, ctx, s);
  await commandService(s, ctx, subject, agg.snapshot.context.serviceArn, {
    type: "DeleteService",
    at: ctx.now,
    force: input.force ?? false,
  });
  return { service: render(s.model.services.get(subject)!, s, ctx.now) };
};

const DescribeServicesInput = z.object({
  services: z.array(z.string()),
  cluster: z.string().optional(),
  include: z.array(z.enum(["TAGS"])).optional(),
});

export const DescribeServices: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeServicesInput, raw);
  if (input.services.length === 0) throw invalid("services cannot be empty.");
  if (input.services.length > 10) throw invalid("services cannot contain more than 10 elements.");
  const cluster = activeCluster(input.cluster, ctx, s);
  const include = new Set(input.include ?? []);
  const services: unknown[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const value of input.services) {
    let found: ReturnType<typeof serviceAgg> | undefined;
    try {
      found = serviceAgg(value, cluster, ctx, s);
    } catch {
      failures.push({ arn: value, reason: "MISSING" });
      continue;
    }
    if (!found.agg || found.agg.snapshot.value === "NEW") failures.push({ arn: arns.service(ctx.scope, cluster.name, found.name), reason: "MISSING" });
    else services.push(render(found.agg, s, ctx.now, include));
  }
  return { services, failures };
};

const ListServicesInput = z.object({
  cluster: z.string().optional(),
  launchType: LaunchType.optional(),
  schedulingStrategy: z.enum(["REPLICA", "DAEMON"]).optional(),
  resourceManagementType: z.string().optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListServices: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListServicesInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  const out: string[] = [];
  for (const subject of s.model.servicesByCluster.get(cluster.subject) ?? []) {
    const agg = s.model.services.get(subject);
    if (agg?.snapshot.value !== "ACTIVE") continue;
    const c = agg.snapshot.context;
    if (input.schedulingStrategy && c.schedulingStrategy !== input.schedulingStrategy) continue;
    if (input.launchType && deploymentLaunchType(c.deployments[0]) !== input.launchType) continue;
    out.push(c.serviceArn);
  }
  out.sort();
  const { page, nextToken } = paginate(out, input, { c: cluster.name, l: input.launchType, s: input.schedulingStrategy }, 10);
  return { serviceArns: page, ...(nextToken ? { nextToken } : {}) };
};

const ListServicesByNamespaceInput = z.object({
  namespace: z.string(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListServicesByNamespace: Handler = async (raw) => {
  const input = parseInput(ListServicesByNamespaceInput, raw);
  // Berth has no Cloud Map namespaces: every namespace is unknown.
  throw new EcsError("NamespaceNotFoundException", `Namespace ${input.namespace} not found.`);
};
