import { arns, isArn, type Scope } from "../../../events/arns.ts";

/**
 * Which resource(s) an ECS action is authorized against, following ECS's table of resource-level
 * permissions ("Actions, resources, and condition keys for Amazon ECS"):
 *
 *   cluster             CreateCluster, DeleteCluster, DescribeClusters, UpdateCluster,
 *                       UpdateClusterSettings, PutClusterCapacityProviders, ListContainerInstances,
 *                       DeregisterContainerInstance
 *   task-definition     RunTask, StartTask, DeleteTaskDefinitions
 *   task                StopTask, DescribeTasks
 *   service             CreateService, UpdateService, DeleteService, DescribeServices,
 *                       ListServiceDeployments
 *   service-deployment  DescribeServiceDeployments, StopServiceDeployment
 *   service-revision    DescribeServiceRevisions
 *   container-instance  DescribeContainerInstances, UpdateContainerInstancesState
 *   the resource ARN    TagResource, UntagResource, ListTagsForResource
 *   "*"                 everything else (ListClusters, ListTasks, ListServices, Register/Describe/
 *                       DeregisterTaskDefinition, ListTaskDefinitions, …)
 *
 * Runs before the handler validated the input, so it never throws: a member of the wrong type is
 * authorized as `*` (only a policy granting `*` lets it through to the handler, which then refuses
 * it with the ECS error for the bad value).
 *
 * A task definition given by family alone is authorized as its latest revision when `lookup`
 * knows it (ECS resolves it the same way), else as `family:*`.
 */
export interface ResourceLookup {
  latestRevision(region: string, family: string): number | undefined;
}

type Input = Record<string, unknown>;
type Resolver = (input: Input, scope: Scope, lookup: ResourceLookup) => string[];

const ANY = "*";

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
/** ECS's largest batch (DescribeTasks, DescribeClusters, …) is 100; longer lists are refused by the handler. */
const MAX_BATCH = 100;
const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.length <= MAX_BATCH && v.every((x) => typeof x === "string")
    ? (v as string[])
    : undefined;

/** Cluster name of a request member (name or ARN; default `default`); undefined when malformed. */
function clusterName(v: unknown): string | undefined {
  if (v === undefined || v === null) return "default";
  const s = str(v);
  if (s === undefined) return undefined;
  return isArn(s) ? s.slice(s.indexOf("/") + 1) : s;
}

function clusterArn(v: unknown, scope: Scope): string {
  const s = str(v);
  if (s && isArn(s)) return s;
  const name = clusterName(v);
  return name === undefined ? ANY : arns.cluster(scope, name);
}

/** `<kind>/<cluster>/<id>` ARN of a task, service or container instance given by id/name or ARN. */
function childArn(
  build: (scope: Scope, cluster: string, id: string) => string,
): (value: unknown, cluster: unknown, scope: Scope) => string {
  return (value, cluster, scope) => {
    const s = str(value);
    if (s === undefined) return ANY;
    if (isArn(s)) return s;
    const c = clusterName(cluster);
    return c === undefined ? ANY : build(scope, c, s);
  };
}

const taskArn = childArn(arns.task);
const serviceArn = childArn(arns.service);
const instanceArn = childArn(arns.instance);

function taskDefinitionArn(v: unknown, scope: Scope, lookup: ResourceLookup): string {
  const s = str(v);
  if (s === undefined) return ANY;
  if (isArn(s)) return s;
  const [family = "", revision] = s.split(":");
  if (revision !== undefined) return `arn:aws:ecs:${scope.region}:${scope.account}:task-definition/${s}`;
  const latest = lookup.latestRevision(scope.region, family);
  return latest === undefined
    ? `arn:aws:ecs:${scope.region}:${scope.account}:task-definition/${family}:*`
    : arns.taskDefinition(scope, family, latest);
}

const each =
  (
    member: string,
    one: (v: unknown, input: Input, scope: Scope, lookup: ResourceLookup) => string,
    fallback?: Resolver,
  ): Resolver =>
  (input, scope, lookup) => {
    const values = strings(input[member]);
    if (values) return values.map((v) => one(v, input, scope, lookup));
    if (input[member] === undefined && fallback) return fallback(input, scope, lookup);
    return [ANY];
  };

const ofCluster =
  (member: string): Resolver =>
  (input, scope) => [clusterArn(input[member], scope)];

const RESOLVERS: Record<string, Resolver> = {
  CreateCluster: ofCluster("clusterName"),
  DeleteCluster: ofCluster("cluster"),
  UpdateCluster: ofCluster("cluster"),
  UpdateClusterSettings: ofCluster("cluster"),
  PutClusterCapacityProviders: ofCluster("cluster"),
  ListContainerInstances: ofCluster("cluster"),
  DeregisterContainerInstance: ofCluster("cluster"),
  DescribeClusters: each(
    "clusters",
    (v, _i, scope) => clusterArn(v, scope),
    (_i, scope) => [arns.cluster(scope, "default")],
  ),

  RunTask: (input, scope, lookup) => [taskDefinitionArn(input.taskDefinition, scope, lookup)],
  StartTask: (input, scope, lookup) => [taskDefinitionArn(input.taskDefinition, scope, lookup)],
  DeleteTaskDefinitions: each("taskDefinitions", (v, _i, scope, lookup) => taskDefinitionArn(v, scope, lookup)),

  StopTask: (input, scope) => [taskArn(input.task, input.cluster, scope)],
  DescribeTasks: each("tasks", (v, input, scope) => taskArn(v, input.cluster, scope)),

  CreateService: (input, scope) => [serviceArn(input.serviceName, input.cluster, scope)],
  UpdateService: (input, scope) => [serviceArn(input.service, input.cluster, scope)],
  DeleteService: (input, scope) => [serviceArn(input.service, input.cluster, scope)],
  DescribeServices: each("services", (v, input, scope) => serviceArn(v, input.cluster, scope)),
  ListServiceDeployments: (input, scope) => [serviceArn(input.service, input.cluster, scope)],
  DescribeServiceDeployments: each("serviceDeploymentArns", (v) => str(v) ?? ANY),
  DescribeServiceRevisions: each("serviceRevisionArns", (v) => str(v) ?? ANY),
  StopServiceDeployment: (input) => [str(input.serviceDeploymentArn) ?? ANY],

  DescribeContainerInstances: each("containerInstances", (v, input, scope) => instanceArn(v, input.cluster, scope)),
  UpdateContainerInstancesState: each("containerInstances", (v, input, scope) => instanceArn(v, input.cluster, scope)),

  TagResource: (input) => [str(input.resourceArn) ?? ANY],
  UntagResource: (input) => [str(input.resourceArn) ?? ANY],
  ListTagsForResource: (input) => [str(input.resourceArn) ?? ANY],
};

/** The resources `action` is authorized against (at least one; `*` when ECS uses `*`). */
export function resourcesFor(action: string, input: Input, scope: Scope, lookup: ResourceLookup): string[] {
  const resolve = RESOLVERS[action];
  const out = resolve ? resolve(input, scope, lookup) : [ANY];
  // A request naming the same resource twice is authorized once.
  return out.length === 0 ? [ANY] : [...new Set(out)];
}
