/**
 * ECS ARNs in their long (current) form, built and parsed in one place.
 *
 *   arn:aws:ecs:<region>:<account>:cluster/<cluster>
 *   arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>
 *   arn:aws:ecs:<region>:<account>:task/<cluster>/<taskId>
 *   arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<instanceId>
 *   arn:aws:ecs:<region>:<account>:service/<cluster>/<service>
 *   arn:aws:ecs:<region>:<account>:container/<cluster>/<taskId>/<containerId>
 *   arn:aws:ecs:<region>:<account>:capacity-provider/<name>
 *   arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>
 *   arn:aws:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id>
 *
 * A service deployment's and a service revision's id is the number of the deployment
 * (`ecs-svc/<number>`) they are made of.
 */

export interface Scope {
  region: string;
  account: string;
}

const prefix = (s: Scope) => `arn:aws:ecs:${s.region}:${s.account}`;
const taskPrefix = (s: Scope, cluster: string) => `${prefix(s)}:task/${cluster}/`;
const containerPrefix = (s: Scope, cluster: string) => `${prefix(s)}:container/${cluster}/`;

export const arns = {
  cluster: (s: Scope, cluster: string) => `${prefix(s)}:cluster/${cluster}`,
  taskDefinition: (s: Scope, family: string, revision: number) => `${prefix(s)}:task-definition/${family}:${revision}`,
  task: (s: Scope, cluster: string, taskId: string) => taskPrefix(s, cluster) + taskId,
  /** What every task ARN of the cluster starts with: `arns.task(s, cluster, id)` is it and the id. */
  taskPrefix,
  instance: (s: Scope, cluster: string, instanceId: string) => `${prefix(s)}:container-instance/${cluster}/${instanceId}`,
  service: (s: Scope, cluster: string, service: string) => `${prefix(s)}:service/${cluster}/${service}`,
  container: (s: Scope, cluster: string, taskId: string, containerId: string) =>
    `${containerPrefix(s, cluster)}${taskId}/${containerId}`,
  /** What the ARNs of the cluster's containers start with, before `<taskId>/<containerId>`. */
  containerPrefix,
  capacityProvider: (s: Scope, name: string) => `${prefix(s)}:capacity-provider/${name}`,
  serviceDeployment: (s: Scope, cluster: string, service: string, deploymentId: string) =>
    `${prefix(s)}:service-deployment/${cluster}/${service}/${deploymentNumber(deploymentId)}`,
  serviceRevision: (s: Scope, cluster: string, service: string, deploymentId: string) =>
    `${prefix(s)}:service-revision/${cluster}/${service}/${deploymentNumber(deploymentId)}`,
} as const;

/** `ecs-svc/<number>` → `<number>` (any other id whole): a service deployment's and revision's id. */
export const deploymentNumber = (deploymentId: string) => deploymentId.slice(deploymentId.lastIndexOf("/") + 1);

export type ArnKind =
  | "cluster"
  | "task-definition"
  | "task"
  | "container-instance"
  | "service"
  | "container"
  | "capacity-provider"
  | "service-deployment"
  | "service-revision";

export interface ParsedArn {
  region: string;
  account: string;
  kind: ArnKind;
  /** The path after `<kind>/`, split on '/'. */
  path: string[];
}

const ARN = /^arn:aws:ecs:([a-z0-9-]+):(\d{12}):([a-z-]+)\/(.+)$/;
const KINDS = new Set<string>([
  "cluster",
  "task-definition",
  "task",
  "container-instance",
  "service",
  "container",
  "capacity-provider",
  "service-deployment",
  "service-revision",
]);

/** Parses an ECS ARN; null when it is not one. */
export function parseArn(arn: string): ParsedArn | null {
  const m = ARN.exec(arn);
  if (!m || !KINDS.has(m[3] as string)) return null;
  return { region: m[1] as string, account: m[2] as string, kind: m[3] as ArnKind, path: (m[4] as string).split("/") };
}

export const isArn = (value: string) => value.startsWith("arn:");

/** The last path element of an ARN, or the value itself when it is a short name or id. */
export function shortName(value: string): string {
  if (!isArn(value)) return value;
  const parsed = parseArn(value);
  return parsed ? (parsed.path[parsed.path.length - 1] as string) : value;
}
