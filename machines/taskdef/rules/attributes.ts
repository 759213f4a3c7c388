import type { NetworkMode } from "../../../events/shapes.ts";
import type { ContainerDefinition, TaskDefinitionSpec } from "../../../events/taskdef.shapes.ts";
import { isEcrImage } from "./compatibility.ts";

/**
 * requiresAttributes: the container-instance attributes a definition needs, derived from the
 * features it uses. Placement only picks instances that advertise all of them (failure reason
 * ATTRIBUTE). ECS does not document its derivation; this table joins two public sources:
 *  - the API model says which members need which Docker Remote API version (logConfiguration,
 *    ulimits, dockerLabels 1.18; log options 1.19; initProcessEnabled 1.25);
 *  - the ECS agent advertises one attribute per capability (agent_capability.go), and a feature
 *    can only run where its capability is advertised.
 * Definitions registered on AWS (DescribeTaskDefinition output published with real accounts)
 * settle two cases: an ECR image needs ecr-auth even when the execution role pulls it, and a
 * task-level cpu or memory adds nothing (no task-cpu-mem-limit, on EC2-only definitions too).
 * Attributes are name-only, listed in order of first need, without duplicates.
 */

const LEGACY = "com.amazonaws.ecs.capability.";
const CURRENT = "ecs.capability.";
const dockerApi = (version: string) => `${LEGACY}docker-remote-api.${version}`;

const isSecretsManager = (valueFrom: string) => valueFrom.includes(":secretsmanager:");

function containerNeeds(c: ContainerDefinition, spec: Spec, need: (name: string) => void): void {
  const log = c.logConfiguration;
  if (log) {
    need(`${LEGACY}logging-driver.${log.logDriver}`);
    need(dockerApi("1.18"));
    if (Object.keys(log.options ?? {}).length > 0) need(dockerApi("1.19"));
    if (log.logDriver === "awslogs" && spec.executionRoleArn) need(`${CURRENT}execution-role-awslogs`);
    for (const s of log.secretOptions ?? [])
      need(`${CURRENT}secrets.${isSecretsManager(s.valueFrom) ? "asm" : "ssm"}.bootstrap.log-driver`);
  }
  if ((c.ulimits?.length ?? 0) > 0) need(dockerApi("1.18"));
  if (Object.keys(c.dockerLabels ?? {}).length > 0) need(dockerApi("1.18"));
  if (c.linuxParameters?.initProcessEnabled) need(dockerApi("1.25"));
  if (c.healthCheck) need(`${CURRENT}container-health-check`);
  if ((c.dependsOn?.length ?? 0) > 0) need(`${CURRENT}container-ordering`);
  if (c.privileged) need(`${LEGACY}privileged-container`);
  for (const s of c.secrets ?? [])
    need(`${CURRENT}secrets.${isSecretsManager(s.valueFrom) ? "asm" : "ssm"}.environment-variables`);
  if (c.repositoryCredentials) need(`${CURRENT}private-registry-authentication.secretsmanager`);
  if (isEcrImage(c.image)) {
    // ECS lists ecr-auth for every ECR image, and execution-role-ecr-pull beside it when the
    // execution role pulls it (registered definitions seen on AWS).
    need(`${LEGACY}ecr-auth`);
    if (spec.executionRoleArn) need(`${CURRENT}execution-role-ecr-pull`);
  }
  if ((c.environmentFiles?.length ?? 0) > 0) need(`${CURRENT}env-files.s3`);
  if (c.firelensConfiguration) need(`${CURRENT}firelens.${c.firelensConfiguration.type}`);
  if (c.restartPolicy?.enabled) need(`${CURRENT}container-restart-policy`);
  if (c.portMappings?.some((p) => p.containerPortRange !== undefined)) need(`${CURRENT}network.container-port-range`);
  for (const opt of c.dockerSecurityOptions ?? []) {
    if (opt.startsWith("label:")) need(`${LEGACY}selinux`);
    if (opt.startsWith("apparmor:")) need(`${LEGACY}apparmor`);
  }
}

type Spec = Omit<TaskDefinitionSpec, "requiresAttributes" | "compatibilities">;

export function requiredAttributes(spec: Spec, mode: NetworkMode): { name: string }[] {
  const names: string[] = [];
  const need = (name: string) => {
    if (!names.includes(name)) names.push(name);
  };
  for (const c of spec.containerDefinitions) containerNeeds(c, spec, need);
  if (spec.taskRoleArn) {
    need(`${LEGACY}task-iam-role`);
    if (mode === "host") need(`${LEGACY}task-iam-role-network-host`);
  }
  if (mode === "awsvpc") need(`${CURRENT}task-eni`);
  if (spec.pidMode || spec.ipcMode) need(`${CURRENT}pid-ipc-namespace-sharing`);
  if (spec.proxyConfiguration) need(`${CURRENT}aws-appmesh`);
  for (const vol of spec.volumes) {
    if (vol.efsVolumeConfiguration) need(`${CURRENT}efs`);
    if (vol.fsxWindowsFileServerVolumeConfiguration) need(`${CURRENT}fsxWindowsFileServer`);
    const driver = vol.dockerVolumeConfiguration?.driver;
    if (driver && driver !== "local") need(`${CURRENT}docker-plugin.${driver}`);
  }
  if ((spec.inferenceAccelerators?.length ?? 0) > 0) need(`${CURRENT}task-eia`);
  if (spec.enableFaultInjection) need(`${CURRENT}fault-injection`);
  return names.map((name) => ({ name }));
}
