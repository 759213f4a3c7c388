import type { Rejection } from "../../decider.ts";
import { clientException, type ContainerInput, type LaunchCompatibility, type Rule, type TaskView } from "./request.ts";
import { isFargateSize } from "./units.ts";

/**
 * Launch-type compatibility. A definition is checked against each launch type it *requires*
 * (requiresCompatibilities: a violation is a ClientException), and the same checks decide which
 * launch types it is *compatible* with (`compatibilities` in the response, which RunTask and
 * CreateService check their launch type against).
 *
 * Observed responses: a bridge definition lists ["EXTERNAL", "EC2"]; a Fargate-valid awsvpc one
 * lists ["EC2", "FARGATE"] (AWS CLI examples). EC2 accepts everything that passed validation.
 * [seen] marks ECS's own words; the other Fargate messages follow the wording of
 * "Fargate compatible task definitions do not support sourcePath" [seen].
 */

/** Log drivers Fargate offers (API model, LogConfiguration.logDriver). */
const FARGATE_LOG_DRIVERS = new Set(["awslogs", "splunk", "awsfirelens"]);
/** The only capability Fargate lets a container add (API model, KernelCapabilities.add). */
const FARGATE_ADDABLE_CAPABILITY = "SYS_PTRACE";
/** Fargate's longest stop timeout, in seconds (API model, ContainerDefinition.stopTimeout). */
const FARGATE_MAX_STOP_TIMEOUT = 120;
/** Private ECR image references: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/… */
const ECR_IMAGE = /^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

export const isEcrImage = (image: string | undefined) => ECR_IMAGE.test(image ?? "");

const unsupported = (what: string) => clientException(`Fargate compatible task definitions do not support ${what}`);

type ContainerCheck = (c: ContainerInput, v: TaskView) => Rejection | undefined;

const FARGATE_CONTAINER_CHECKS: readonly ContainerCheck[] = [
  (c) => (c.privileged ? unsupported("privileged containers") : undefined),
  (c) => {
    const driver = c.logConfiguration?.logDriver;
    return driver && !FARGATE_LOG_DRIVERS.has(driver) ? unsupported(`log driver ${driver}`) : undefined;
  },
  (c, v) =>
    c.logConfiguration?.logDriver === "awslogs" && !v.req.executionRoleArn
      ? clientException("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
      : undefined,
  (c) =>
    c.logConfiguration?.logDriver === "awslogs" && !c.logConfiguration.options?.["awslogs-stream-prefix"]
      ? clientException("Log driver awslogs requires options: awslogs-stream-prefix")
      : undefined,
  (c, v) =>
    isEcrImage(c.image) && !v.req.executionRoleArn
      ? clientException("Fargate requires task definition to have execution role ARN to support ECR images.")
      : undefined,
  (c) => ((c.linuxParameters?.devices?.length ?? 0) > 0 ? unsupported("devices") : undefined),
  (c) => (c.linuxParameters?.sharedMemorySize !== undefined ? unsupported("sharedMemorySize") : undefined),
  (c) =>
    c.linuxParameters?.maxSwap !== undefined || c.linuxParameters?.swappiness !== undefined
      ? unsupported("maxSwap or swappiness")
      : undefined,
  (c) =>
    c.linuxParameters?.capabilities?.add?.some((cap) => cap !== FARGATE_ADDABLE_CAPABILITY)
      ? unsupported(`adding kernel capabilities other than ${FARGATE_ADDABLE_CAPABILITY}`)
      : undefined,
  (c) => ((c.dockerSecurityOptions?.length ?? 0) > 0 ? unsupported("dockerSecurityOptions") : undefined),
  (c) =>
    c.stopTimeout !== undefined && c.stopTimeout > FARGATE_MAX_STOP_TIMEOUT
      ? clientException(
          `Invalid 'stopTimeout' setting for container '${c.name ?? ""}'. Fargate allows at most ${FARGATE_MAX_STOP_TIMEOUT} seconds.`,
        )
      : undefined,
];

const FARGATE_TASK_CHECKS: readonly Rule[] = [
  /** [seen] (ECS writes the network mode in typographic quotes) */
  (v) => (v.mode === "awsvpc" ? undefined : clientException("Fargate only supports network mode ‘awsvpc’.")),
  /** [seen] */
  (v) =>
    v.cpu === undefined ? clientException("Fargate requires that 'cpu' be defined at the task level.") : undefined,
  (v) =>
    v.memory === undefined
      ? clientException("Fargate requires that 'memory' be defined at the task level.")
      : undefined,
  /** [seen] */
  (v) =>
    typeof v.cpu === "number" && typeof v.memory === "number" && !isFargateSize(v.cpu, v.memory)
      ? clientException("No Fargate configuration exists for given values.")
      : undefined,
  /** [seen] Fargate has no host to bind-mount from; a volume with only a name is a task-scoped one. */
  (v) => ((v.req.volumes ?? []).some((vol) => vol.host?.sourcePath) ? unsupported("sourcePath") : undefined),
  (v) =>
    (v.req.volumes ?? []).some((vol) => vol.dockerVolumeConfiguration)
      ? unsupported("dockerVolumeConfiguration")
      : undefined,
  /** [seen] */
  (v) => (v.req.ipcMode ? clientException("Tasks using the Fargate launch type do not support ipcMode.") : undefined),
  (v) => (v.req.pidMode === "host" ? unsupported("pidMode host") : undefined),
];

/** The first reason the definition cannot run on Fargate, or undefined when it can. */
export function fargateViolation(v: TaskView): Rejection | undefined {
  for (const check of FARGATE_TASK_CHECKS) {
    const r = check(v);
    if (r) return r;
  }
  for (const c of v.containers)
    for (const check of FARGATE_CONTAINER_CHECKS) {
      const r = check(c, v);
      if (r) return r;
    }
  return undefined;
}

const externalUnsupported = (what: string) =>
  clientException(`EXTERNAL compatible task definitions do not support ${what}`);

/**
 * ECS Anywhere (developer guide, ecs-anywhere): Linux tasks use bridge, host or none; no EFS
 * volumes; no App Mesh proxy.
 */
export function externalViolation(v: TaskView): Rejection | undefined {
  if (v.mode === "awsvpc") return externalUnsupported("networkMode awsvpc");
  if ((v.req.volumes ?? []).some((vol) => vol.efsVolumeConfiguration))
    return externalUnsupported("efsVolumeConfiguration");
  if (v.req.proxyConfiguration) return externalUnsupported("proxyConfiguration");
  return undefined;
}

/** Launch types with no definition-level restrictions beyond the general rules. */
const noViolation = (): Rejection | undefined => undefined;

const VIOLATION: Record<LaunchCompatibility, (v: TaskView) => Rejection | undefined> = {
  EC2: noViolation,
  FARGATE: fargateViolation,
  EXTERNAL: externalViolation,
  // Managed Instances' task-definition restrictions are not documented in the sources we have.
  MANAGED_INSTANCES: noViolation,
};

/** requiresCompatibilities: every required launch type must accept the definition. */
export const requiredCompatibilities: Rule = (v) => {
  for (const launchType of v.requires) {
    const r = VIOLATION[launchType](v);
    if (r) return r;
  }
  return undefined;
};

/**
 * `compatibilities` as ECS echoes it, in its observed order. MANAGED_INSTANCES is listed only when
 * required: whether ECS derives it for other definitions could not be confirmed.
 */
export function compatibilitiesOf(v: TaskView): LaunchCompatibility[] {
  const out: LaunchCompatibility[] = [];
  if (!externalViolation(v)) out.push("EXTERNAL");
  out.push("EC2");
  if (!fargateViolation(v)) out.push("FARGATE");
  if (v.requires.has("MANAGED_INSTANCES")) out.push("MANAGED_INSTANCES");
  return out;
}
