import { z } from "zod";
import { arns, deploymentNumber, parseArn } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { withStrategyDefaults } from "../../../machines/account/capacity-providers.ts";
import type { ServiceSnapshot } from "../../../machines/service/service.decide.ts";
import type { ServiceContext, ServiceDeploymentRecord, ServiceRevisionRecord } from "../../../machines/service/service.machine.ts";
import { breakerThreshold, failedTaskCount } from "../../../machines/service/service.reconcile.ts";
import { revisionOf } from "../../../machines/taskdef/taskdef.decide.ts";
import type { Agg } from "../../control-plane/read-model.ts";
import { serviceTaskViews } from "../../scheduler/views.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput } from "../errors.ts";
import { paginate, withoutPaging } from "../paging.ts";
import { compact, seconds } from "../render.ts";
import { deploymentConfigurationOf, onFargate, revisionSummary, scopeOf } from "../render-service.ts";
import { activeCluster } from "../resolve.ts";
import { commandService, deploymentId, existingService } from "./services.ts";

/**
 * ECS's service deployments and service revisions (ListServiceDeployments,
 * DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment), read from the
 * service's folded history (`ServiceContext.history` and `revisions`). A service deployment and
 * a service revision share the number of the deployment (`ecs-svc/<number>`) they are made of.
 */

/** ECS: at most 20 ARNs per Describe call; ListServiceDeployments pages 20 by default, 100 at most. */
const MAX_DESCRIBE = 20;
const DEFAULT_PAGE = 20;

const STATUSES = [
  "PENDING",
  "SUCCESSFUL",
  "STOPPED",
  "STOP_REQUESTED",
  "IN_PROGRESS",
  "ROLLBACK_REQUESTED",
  "ROLLBACK_IN_PROGRESS",
  "ROLLBACK_SUCCESSFUL",
  "ROLLBACK_FAILED",
] as const;

const ListServiceDeploymentsInput = z.object({
  service: z.string(),
  cluster: z.string().optional(),
  status: z.array(z.enum(STATUSES)).optional(),
  createdAt: z.object({ before: z.number().optional(), after: z.number().optional() }).optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
});

export const ListServiceDeployments: Handler = async (raw, ctx, s) => {
  const input = parseInput(ListServiceDeploymentsInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  const found = existingService(input.service, cluster, ctx, s);
  const svc = found.agg.snapshot.context;
  const wanted = input.status?.length ? new Set<string>(input.status) : undefined;
  const after = input.createdAt?.after === undefined ? undefined : input.createdAt.after * 1000;
  const before = input.createdAt?.before === undefined ? undefined : input.createdAt.before * 1000;
  const matching = svc.history.filter(
    (h) =>
      (!wanted || wanted.has(h.status)) &&
      (after === undefined || h.createdAt > after) &&
      (before === undefined || h.createdAt < before),
  );
  const { page, nextToken } = paginate(matching, input, withoutPaging(input), DEFAULT_PAGE);
  const scope = scopeOf(svc);
  return {
    serviceDeployments: page.map((h) =>
      compact({
        serviceDeploymentArn: arns.serviceDeployment(scope, svc.cluster, svc.serviceName, h.id),
        serviceArn: svc.serviceArn,
        clusterArn: svc.clusterArn,
        startedAt: seconds(h.createdAt),
        createdAt: seconds(h.createdAt),
        finishedAt: seconds(h.finishedAt),
        targetServiceRevisionArn: arns.serviceRevision(scope, svc.cluster, svc.serviceName, h.id),
        status: h.status,
        statusReason: h.statusReason,
      }),
    ),
    ...(nextToken ? { nextToken } : {}),
  };
};

const DescribeServiceDeploymentsInput = z.object({ serviceDeploymentArns: z.array(z.string()) });

export const DescribeServiceDeployments: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeServiceDeploymentsInput, raw);
  const found = lookUp(input.serviceDeploymentArns, "serviceDeploymentArns", "service-deployment", ctx, s, (svc, id) =>
    svc.history.find((h) => deploymentNumber(h.id) === id),
  );
  return {
    serviceDeployments: found.items.map(({ agg, item }) => renderServiceDeployment(agg, item, s, ctx.now)),
    failures: found.failures,
  };
};

const DescribeServiceRevisionsInput = z.object({ serviceRevisionArns: z.array(z.string()) });

export const DescribeServiceRevisions: Handler = async (raw, ctx, s) => {
  const input = parseInput(DescribeServiceRevisionsInput, raw);
  const found = lookUp(input.serviceRevisionArns, "serviceRevisionArns", "service-revision", ctx, s, (svc, id) =>
    svc.revisions.find((r) => deploymentNumber(r.spec.id) === id),
  );
  return {
    serviceRevisions: found.items.map(({ agg, item }) => renderServiceRevision(agg.snapshot.context, item, agg.region, s)),
    failures: found.failures,
  };
};

const StopServiceDeploymentInput = z.object({
  serviceDeploymentArn: z.string(),
  stopType: z.enum(["ABORT", "ROLLBACK"]).optional(),
});

/**
 * Stops a service deployment in progress by rolling it back to the previous service revision, as
 * the circuit breaker's rollback does (its rollout FAILED, a rollback deployment started). ECS
 * takes ROLLBACK for rolling deployments; ABORT is refused.
 */
export const StopServiceDeployment: Handler = async (raw, ctx, s) => {
  const input = parseInput(StopServiceDeploymentInput, raw);
  if (input.stopType === "ABORT")
    throw invalid("The stop type ABORT is not supported for a rolling update (ECS) deployment. Use ROLLBACK.");
  const named = serviceOf(input.serviceDeploymentArn, "service-deployment", ctx, s);
  const record = named?.agg.snapshot.context.history.find((h) => deploymentNumber(h.id) === named.id);
  if (!named || !record) throw new EcsError("ServiceDeploymentNotFoundException", "The service deployment does not exist.");
  const { subject, agg } = named;
  await commandService(s, ctx, subject, agg.snapshot.context.serviceArn, {
    type: "StopServiceDeployment",
    at: ctx.now,
    deploymentId: record.id,
    rollbackId: deploymentId(),
  });
  return { serviceDeploymentArn: input.serviceDeploymentArn };
};

/**
 * The named items (service deployments or revisions) of the request's region, each with its
 * service; ARNs of another kind or region, of a service that is not there, or naming nothing are
 * failures with ECS's reason MISSING.
 */
function lookUp<T>(
  values: string[],
  member: string,
  kind: "service-deployment" | "service-revision",
  ctx: RequestContext,
  s: ApiServices,
  find: (svc: ServiceContext, id: string) => T | undefined,
) {
  if (values.length === 0) throw invalid(`${member} cannot be empty.`);
  if (values.length > MAX_DESCRIBE) throw invalid(`${member} cannot contain more than ${MAX_DESCRIBE} elements.`);
  const items: { agg: Agg<ServiceSnapshot>; item: T }[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const arn of values) {
    const named = serviceOf(arn, kind, ctx, s);
    const item = named ? find(named.agg.snapshot.context, named.id) : undefined;
    if (named && item !== undefined) items.push({ agg: named.agg, item });
    else failures.push({ arn, reason: "MISSING" });
  }
  return { items, failures };
}

/** The service an ARN of `kind` in the request's region and account names, with the ARN's id; undefined if none. */
function serviceOf(arn: string, kind: "service-deployment" | "service-revision", ctx: RequestContext, s: ApiServices) {
  const p = parseArn(arn);
  if (p?.kind !== kind || p.path.length !== 3 || p.region !== ctx.region || p.account !== ctx.scope.account) return undefined;
  const [cluster, service, id] = p.path as [string, string, string];
  const subject = subjects.service(ctx.region, cluster, service);
  const agg = s.model.services.get(subject);
  return agg && agg.snapshot.value !== "NEW" ? { subject, agg, id } : undefined;
}

function renderServiceDeployment(agg: Agg<ServiceSnapshot>, h: ServiceDeploymentRecord, s: ApiServices, now: number) {
  const svc = agg.snapshot.context;
  const scope = scopeOf(svc);
  const tasks = serviceTaskViews(s.model, agg.subject);
  const desired = svc.settings.desiredCount;
  const config = deploymentConfigurationOf(svc.schedulingStrategy, h.deploymentConfiguration);
  const breaker = config.deploymentCircuitBreaker;
  const tripped = h.status.startsWith("ROLLBACK_") || (h.status === "STOPPED" && /circuit breaker/.test(h.statusReason ?? ""));
  const inProgress = h.status === "IN_PROGRESS" || h.status === "ROLLBACK_IN_PROGRESS";
  return compact({
    serviceDeploymentArn: arns.serviceDeployment(scope, svc.cluster, svc.serviceName, h.id),
    serviceArn: svc.serviceArn,
    clusterArn: svc.clusterArn,
    createdAt: seconds(h.createdAt),
    startedAt: seconds(h.createdAt),
    finishedAt: seconds(h.finishedAt),
    stoppedAt: seconds(h.stoppedAt),
    updatedAt: seconds(h.updatedAt),
    sourceServiceRevisions: h.sources.map((id) => revisionSummary(svc, id, tasks, desired)),
    targetServiceRevision: revisionSummary(svc, h.id, tasks, desired),
    status: h.status,
    statusReason: h.statusReason,
    deploymentConfiguration: config,
    rollback: h.rollback
      ? {
          reason: h.rollback.reason,
          startedAt: seconds(h.rollback.startedAt),
          serviceRevisionArn: arns.serviceRevision(scope, svc.cluster, svc.serviceName, h.rollback.revision ?? h.rollback.deploymentId),
        }
      : undefined,
    deploymentCircuitBreaker: {
      status: !breaker?.enable ? "DISABLED" : tripped ? "TRIGGERED" : inProgress ? "MONITORING" : "MONITORING_COMPLETE",
      failureCount: failedTaskCount({ id: h.id }, tasks, now, breaker?.resetOnHealthyTask ?? true),
      threshold: breakerThreshold(desired, breaker?.thresholdConfiguration),
    },
  });
}

function renderServiceRevision(svc: ServiceContext, r: ServiceRevisionRecord, region: string, s: ApiServices) {
  const d = r.spec;
  const images = containerImages(d.taskDefinition, region, s);
  return compact({
    serviceRevisionArn: arns.serviceRevision(scopeOf(svc), svc.cluster, svc.serviceName, d.id),
    serviceArn: svc.serviceArn,
    clusterArn: svc.clusterArn,
    taskDefinition: d.taskDefinition,
    capacityProviderStrategy: d.capacityProviderStrategy?.length ? withStrategyDefaults(d.capacityProviderStrategy) : undefined,
    launchType: d.capacityProviderStrategy?.length ? undefined : (d.launchType ?? "EC2"),
    // As its deployment shows it (ECS's revisions name the version run, and the family).
    platformVersion: onFargate(d) ? (d.platformVersion ?? "1.4.0") : undefined,
    platformFamily: onFargate(d) ? "Linux" : undefined,
    loadBalancers: svc.settings.loadBalancers,
    serviceRegistries: svc.settings.serviceRegistries,
    networkConfiguration: d.networkConfiguration,
    containerImages: images,
    createdAt: seconds(r.createdAt),
  });
}

/** The containers' images of the revision's task definition (none when it has been deleted). */
function containerImages(taskDefinitionArn: string, region: string, s: ApiServices) {
  const p = parseArn(taskDefinitionArn);
  const ref = p?.kind === "task-definition" ? (p.path[0] ?? "") : "";
  const colon = ref.lastIndexOf(":");
  const family = ref.slice(0, colon);
  const revision = Number(ref.slice(colon + 1));
  const agg = s.model.taskDefinitions.get(subjects.taskDefinition(region, family));
  const rev = agg && Number.isInteger(revision) ? revisionOf(agg.snapshot, revision) : undefined;
  return rev?.containerDefinitions.map((c) => ({ containerName: c.name, image: c.image }));
}
