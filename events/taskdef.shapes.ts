import { z } from "zod";
import { KeyValuePair, Millis, NetworkMode, PlacementConstraint, Tag } from "./shapes.ts";

/**
 * The task definition as ECS stores and returns it (after normalisation), member names and JSON
 * types exactly as in the ECS model: integers in container definitions, strings for task cpu/memory.
 */

export const PortMapping = z.object({
  containerPort: z.number().int().optional(),
  hostPort: z.number().int().optional(),
  protocol: z.enum(["tcp", "udp"]).optional(),
  name: z.string().optional(),
  appProtocol: z.enum(["http", "http2", "grpc"]).optional(),
  containerPortRange: z.string().optional(),
});
export type PortMapping = z.infer<typeof PortMapping>;

export const MountPoint = z.object({
  sourceVolume: z.string().optional(),
  containerPath: z.string().optional(),
  readOnly: z.boolean().optional(),
});
export const VolumeFrom = z.object({ sourceContainer: z.string().optional(), readOnly: z.boolean().optional() });

export const DependsOnCondition = z.enum(["START", "COMPLETE", "SUCCESS", "HEALTHY"]);
export const ContainerDependency = z.object({ containerName: z.string(), condition: DependsOnCondition });
export type ContainerDependency = z.infer<typeof ContainerDependency>;

export const HealthCheck = z.object({
  command: z.array(z.string()),
  interval: z.number().int().optional(),
  timeout: z.number().int().optional(),
  retries: z.number().int().optional(),
  startPeriod: z.number().int().optional(),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export const UlimitName = z.enum([
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
]);
export const Ulimit = z.object({ name: UlimitName, softLimit: z.number().int(), hardLimit: z.number().int() });

export const LogDriver = z.enum(["json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "awsfirelens"]);
export const LogConfiguration = z.object({
  logDriver: LogDriver,
  options: z.record(z.string(), z.string()).optional(),
  secretOptions: z.array(z.object({ name: z.string(), valueFrom: z.string() })).optional(),
});

export const Secret = z.object({ name: z.string(), valueFrom: z.string() });

export const KernelCapabilities = z.object({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() });
export const Device = z.object({
  hostPath: z.string(),
  containerPath: z.string().optional(),
  permissions: z.array(z.enum(["read", "write", "mknod"])).optional(),
});
export const Tmpfs = z.object({ containerPath: z.string(), size: z.number().int(), mountOptions: z.array(z.string()).optional() });
export const LinuxParameters = z.object({
  capabilities: KernelCapabilities.optional(),
  devices: z.array(Device).optional(),
  initProcessEnabled: z.boolean().optional(),
  sharedMemorySize: z.number().int().optional(),
  tmpfs: z.array(Tmpfs).optional(),
  maxSwap: z.number().int().optional(),
  swappiness: z.number().int().optional(),
});

export const RestartPolicy = z.object({
  enabled: z.boolean(),
  ignoredExitCodes: z.array(z.number().int()).optional(),
  restartAttemptPeriod: z.number().int().optional(),
});

export const ResourceRequirement = z.object({
  value: z.string(),
  type: z.enum(["GPU", "InferenceAccelerator", "NeuronDevice"]),
});

export const ContainerDefinition = z.object({
  name: z.string(),
  image: z.string(),
  repositoryCredentials: z.object({ credentialsParameter: z.string() }).optional(),
  cpu: z.number().int().optional(),
  memory: z.number().int().optional(),
  memoryReservation: z.number().int().optional(),
  links: z.array(z.string()).optional(),
  portMappings: z.array(PortMapping).optional(),
  essential: z.boolean().optional(),
  restartPolicy: RestartPolicy.optional(),
  entryPoint: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  environment: z.array(KeyValuePair).optional(),
  environmentFiles: z.array(z.object({ value: z.string(), type: z.literal("s3") })).optional(),
  mountPoints: z.array(MountPoint).optional(),
  volumesFrom: z.array(VolumeFrom).optional(),
  linuxParameters: LinuxParameters.optional(),
  secrets: z.array(Secret).optional(),
  dependsOn: z.array(ContainerDependency).optional(),
  startTimeout: z.number().int().optional(),
  stopTimeout: z.number().int().optional(),
  versionConsistency: z.enum(["enabled", "disabled"]).optional(),
  hostname: z.string().optional(),
  user: z.string().optional(),
  workingDirectory: z.string().optional(),
  disableNetworking: z.boolean().optional(),
  privileged: z.boolean().optional(),
  readonlyRootFilesystem: z.boolean().optional(),
  dnsServers: z.array(z.string()).optional(),
  dnsSearchDomains: z.array(z.string()).optional(),
  extraHosts: z.array(z.object({ hostname: z.string(), ipAddress: z.string() })).optional(),
  dockerSecurityOptions: z.array(z.string()).optional(),
  interactive: z.boolean().optional(),
  pseudoTerminal: z.boolean().optional(),
  dockerLabels: z.record(z.string(), z.string()).optional(),
  ulimits: z.array(Ulimit).optional(),
  logConfiguration: LogConfiguration.optional(),
  healthCheck: HealthCheck.optional(),
  systemControls: z.array(z.object({ namespace: z.string().optional(), value: z.string().optional() })).optional(),
  resourceRequirements: z.array(ResourceRequirement).optional(),
  firelensConfiguration: z
    .object({ type: z.enum(["fluentd", "fluentbit"]), options: z.record(z.string(), z.string()).optional() })
    .optional(),
  credentialSpecs: z.array(z.string()).optional(),
});
export type ContainerDefinition = z.infer<typeof ContainerDefinition>;

export const DockerVolumeConfiguration = z.object({
  scope: z.enum(["task", "shared"]).optional(),
  autoprovision: z.boolean().optional(),
  driver: z.string().optional(),
  driverOpts: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const Volume = z.object({
  name: z.string().optional(),
  host: z.object({ sourcePath: z.string().optional() }).optional(),
  dockerVolumeConfiguration: DockerVolumeConfiguration.optional(),
  efsVolumeConfiguration: z.looseObject({ fileSystemId: z.string() }).optional(),
  fsxWindowsFileServerVolumeConfiguration: z.looseObject({ fileSystemId: z.string() }).optional(),
  configuredAtLaunch: z.boolean().optional(),
});
export type Volume = z.infer<typeof Volume>;

export const Compatibility = z.enum(["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"]);

export const TaskDefinitionStatus = z.enum(["ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"]);
export type TaskDefinitionStatus = z.infer<typeof TaskDefinitionStatus>;

/**
 * What RegisterTaskDefinition produces after validation and normalisation, before it has a
 * revision: everything ECS echoes back except arn, revision, status and timestamps.
 */
export const TaskDefinitionSpec = z.object({
  family: z.string(),
  containerDefinitions: z.array(ContainerDefinition),
  taskRoleArn: z.string().optional(),
  executionRoleArn: z.string().optional(),
  networkMode: NetworkMode.optional(),
  volumes: z.array(Volume),
  placementConstraints: z.array(PlacementConstraint),
  requiresCompatibilities: z.array(Compatibility).optional(),
  compatibilities: z.array(Compatibility),
  requiresAttributes: z.array(z.object({ name: z.string(), value: z.string().optional() })),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  pidMode: z.enum(["host", "task"]).optional(),
  ipcMode: z.enum(["host", "task", "none"]).optional(),
  proxyConfiguration: z.looseObject({ containerName: z.string() }).optional(),
  inferenceAccelerators: z.array(z.object({ deviceName: z.string(), deviceType: z.string() })).optional(),
  ephemeralStorage: z.object({ sizeInGiB: z.number().int() }).optional(),
  runtimePlatform: z
    .object({ cpuArchitecture: z.enum(["X86_64", "ARM64"]).optional(), operatingSystemFamily: z.string().optional() })
    .optional(),
  enableFaultInjection: z.boolean().optional(),
});
export type TaskDefinitionSpec = z.infer<typeof TaskDefinitionSpec>;

/** One revision as stored in the family's read model and returned by DescribeTaskDefinition. */
export const TaskDefinitionRevision = TaskDefinitionSpec.extend({
  taskDefinitionArn: z.string(),
  revision: z.number().int().positive(),
  status: TaskDefinitionStatus,
  registeredAt: Millis,
  registeredBy: z.string().optional(),
  deregisteredAt: Millis.optional(),
  deleteRequestedAt: Millis.optional(),
  tags: z.array(Tag),
});
export type TaskDefinitionRevision = z.infer<typeof TaskDefinitionRevision>;
