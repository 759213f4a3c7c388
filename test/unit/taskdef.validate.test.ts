import { describe, expect, test } from "vitest";
import { isFargateSize, parseTaskCpu, parseTaskMemory } from "../../machines/taskdef/rules/units.ts";
import { validateRegisterTaskDefinition } from "../../machines/taskdef/taskdef.validate.ts";

/**
 * RegisterTaskDefinition validation, table-driven: every rule has a request that passes and one
 * that is refused with ECS's code and message. `seen: true` marks messages that are ECS's own
 * words as real ECS returned them; the others pin Berth's wording of the documented rule.
 */

type Obj = Record<string, unknown>;
const EXEC = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
const ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1";
const HEX64 = "a".repeat(64);

/** One container; `memory` 128 unless patched away. */
const c = (patch: Obj = {}): Obj => ({ name: "app", image: "nginx:1.27", memory: 128, ...patch });
/** An EC2 (bridge) definition. */
const ec2 = (patch: Obj = {}, containers: Obj[] = [c()]): Obj => ({
  family: "web",
  containerDefinitions: containers,
  ...patch,
});
const mode = (networkMode: string, container: Obj = {}) => ec2({ networkMode }, [c(container)]);
/** A valid Fargate definition (task-level size, awsvpc, execution role). */
const fargate = (patch: Obj = {}, container: Obj = {}): Obj => ({
  family: "web",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  executionRoleArn: EXEC,
  containerDefinitions: [c({ memory: undefined, ...container })],
  ...patch,
});
const awslogs = (options: Obj) => ({ logDriver: "awslogs", options });
const fullAwslogs = awslogs({ "awslogs-group": "g", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "p" });
const many = (n: number, make: (i: number) => Obj) => Array.from({ length: n }, (_, i) => make(i));
const sidecar = (patch: Obj = {}) => c({ name: "side", essential: false, ...patch });

interface Case {
  rule: string;
  pass: Obj;
  fail: Obj;
  code?: string;
  message: string;
  seen?: boolean;
}

const CE = "ClientException";
const IPE = "InvalidParameterException";
const SE = "SerializationException";

const SHAPE: Case[] = [
  {
    rule: "integer member",
    pass: ec2(),
    fail: ec2({}, [c({ memory: 1.5 })]),
    code: IPE,
    message: "containerDefinitions[0].memory must be an integer.",
  },
  {
    rule: "integer member sent as string: not deserialized, as ECS answers it",
    pass: ec2(),
    fail: ec2({}, [c({ memory: "128" })]),
    code: SE,
    message: "STRING_VALUE cannot be converted to Integer (member containerDefinitions[0].memory).",
  },
  {
    rule: "task cpu is a string",
    pass: ec2({ cpu: "256" }),
    fail: ec2({ cpu: 256 }),
    code: SE,
    message: "NUMBER_VALUE cannot be converted to String (member cpu).",
  },
  {
    rule: "required nested member",
    pass: ec2({}, [c({ healthCheck: { command: ["CMD", "true"] } })]),
    fail: ec2({}, [c({ healthCheck: {} })]),
    code: IPE,
    message: "containerDefinitions[0].healthCheck.command is required.",
  },
  {
    rule: "log driver enum",
    pass: ec2({}, [c({ logConfiguration: { logDriver: "json-file" } })]),
    fail: ec2({}, [c({ logConfiguration: { logDriver: "foo" } })]),
    code: IPE,
    message:
      "containerDefinitions[0].logConfiguration.logDriver must be one of: json-file, syslog, journald, gelf, fluentd, awslogs, splunk, awsfirelens.",
  },
  {
    rule: "ulimit name enum",
    pass: ec2({}, [c({ ulimits: [{ name: "nofile", softLimit: 1, hardLimit: 2 }] })]),
    fail: ec2({}, [c({ ulimits: [{ name: "files", softLimit: 1, hardLimit: 2 }] })]),
    code: IPE,
    message:
      "containerDefinitions[0].ulimits[0].name must be one of: core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack.",
  },
  {
    rule: "network mode enum",
    pass: ec2({ networkMode: "host" }),
    fail: ec2({ networkMode: "nat" }),
    code: IPE,
    message: "networkMode must be one of: bridge, host, awsvpc, none.",
  },
];

const TASK: Case[] = [
  { rule: "family required", pass: ec2(), fail: ec2({ family: "" }), message: "Family should not be null or empty." },
  {
    rule: "family length",
    pass: ec2({ family: "f".repeat(255) }),
    fail: ec2({ family: "f".repeat(256) }),
    message: "Family must be at most 255 characters.",
  },
  {
    rule: "family characters",
    pass: ec2({ family: "my_app-2" }),
    fail: ec2({ family: "my app" }),
    message: "Family contains invalid characters.",
    seen: true,
  },
  {
    rule: "containers required",
    pass: ec2(),
    fail: ec2({ containerDefinitions: [] }),
    message: "Container list cannot be empty.",
    seen: true,
  },
  {
    rule: "at most 10 containers",
    pass: ec2(
      {},
      many(10, (i) => c({ name: `c${i}` })),
    ),
    fail: ec2(
      {},
      many(11, (i) => c({ name: `c${i}` })),
    ),
    message: "Too many containers.",
    seen: true,
  },
  {
    rule: "task cpu understood",
    pass: ec2({ cpu: "1 vCPU" }),
    fail: ec2({ cpu: "lots" }),
    message:
      "Invalid 'cpu' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
    seen: true,
  },
  {
    rule: "task cpu ≥ 128 units",
    pass: ec2({ cpu: "128" }),
    fail: ec2({ cpu: "100" }),
    message:
      "Invalid 'cpu' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
    seen: true,
  },
  {
    rule: "task memory understood",
    pass: ec2({ memory: "2GB" }),
    fail: ec2({ memory: "2 TB" }),
    message:
      "Invalid 'memory' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
  },
  {
    rule: "container cpu sum ≤ task cpu",
    pass: ec2({ cpu: "512" }, [c({ cpu: 256 }), sidecar({ cpu: 256 })]),
    fail: ec2({ cpu: "256" }, [c({ cpu: 200 }), sidecar({ cpu: 100 })]),
    message: "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.",
    seen: true,
  },
  {
    rule: "container memory sum ≤ task memory",
    pass: ec2({ memory: "600" }, [c({ memory: 300 }), sidecar({ memory: 300 })]),
    fail: ec2({ memory: "512" }, [c({ memory: 300 }), sidecar({ memory: 300 })]),
    message: "The sum of all container 'memory' values cannot be greater than the value of the task 'memory'.",
  },
  {
    rule: "container reservation sum ≤ task memory",
    pass: ec2({ memory: "512" }, [
      c({ memory: 400, memoryReservation: 256 }),
      sidecar({ memory: undefined, memoryReservation: 256 }),
    ]),
    fail: ec2({ memory: "512" }, [
      c({ memory: undefined, memoryReservation: 300 }),
      sidecar({ memory: undefined, memoryReservation: 300 }),
    ]),
    message:
      "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.",
    seen: true,
  },
  {
    rule: "volume name required",
    pass: ec2({ volumes: [{ name: "data" }] }),
    fail: ec2({ volumes: [{ host: { sourcePath: "/x" } }] }),
    message: "Volume.name should not be null or empty.",
  },
  {
    rule: "volume name characters",
    pass: ec2({ volumes: [{ name: "data_1" }] }),
    fail: ec2({ volumes: [{ name: "my data" }] }),
    message: "Volume name 'my data' contains invalid characters.",
  },
  {
    rule: "volume names unique",
    pass: ec2({ volumes: [{ name: "a" }, { name: "b" }] }),
    fail: ec2({ volumes: [{ name: "a" }, { name: "a" }] }),
    message: "Volume names must be unique within a Task Definition ('a').",
  },
  {
    rule: "placement constraint type",
    pass: ec2({ placementConstraints: [{ type: "memberOf", expression: "attribute:ecs.os-type == linux" }] }),
    fail: ec2({ placementConstraints: [{ type: "distinctInstance" }] }),
    message: "Invalid placement constraint type 'distinctInstance': task definitions support only memberOf.",
  },
  {
    rule: "memberOf needs an expression",
    pass: ec2({ placementConstraints: [{ type: "memberOf", expression: "attribute:a == b" }] }),
    fail: ec2({ placementConstraints: [{ type: "memberOf" }] }),
    message: "A memberOf placement constraint requires an expression.",
  },
  {
    rule: "memberOf's expression parses",
    pass: ec2({ placementConstraints: [{ type: "memberOf", expression: "attribute:a == b" }] }),
    fail: ec2({ placementConstraints: [{ type: "memberOf", expression: "(((" }] }),
    message:
      "Invalid expression at position 4: expected a subject (agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group), found the end of the expression.",
  },
  {
    rule: "at most 10 placement constraints",
    pass: ec2({ placementConstraints: many(10, () => ({ type: "memberOf", expression: "attribute:a == b" })) }),
    fail: ec2({ placementConstraints: many(11, () => ({ type: "memberOf", expression: "attribute:a == b" })) }),
    message: "A task definition can have at most 10 placement constraints.",
  },
  {
    rule: "ephemeral storage 21–200 GiB",
    pass: ec2({ ephemeralStorage: { sizeInGiB: 21 } }),
    fail: ec2({ ephemeralStorage: { sizeInGiB: 20 } }),
    message: "Invalid 'ephemeralStorage.sizeInGiB' setting: it must be between 21 and 200.",
  },
];

const CONTAINER: Case[] = [
  {
    rule: "container name required",
    pass: ec2(),
    fail: ec2({}, [c({ name: undefined })]),
    message: "Container.name should not be null or empty.",
    seen: true,
  },
  {
    rule: "container name length",
    pass: ec2({}, [c({ name: "n".repeat(255) })]),
    fail: ec2({}, [c({ name: "n".repeat(256) })]),
    message: "Container.name must be at most 255 characters.",
  },
  {
    rule: "container name characters",
    pass: ec2({}, [c({ name: "web_1-a" })]),
    fail: ec2({}, [c({ name: "web app" })]),
    message: "Container.name contains invalid characters.",
    seen: true,
  },
  {
    rule: "container names unique",
    pass: ec2({}, [c(), sidecar()]),
    fail: ec2({}, [c(), c({ essential: false })]),
    message: "Container names must be unique within a Task Definition.",
    seen: true,
  },
  {
    rule: "image required",
    pass: ec2(),
    fail: ec2({}, [c({ image: "" })]),
    message: "Container.image should not be null or empty.",
  },
  {
    rule: "image characters",
    pass: ec2({}, [c({ image: "quay.io/org/app:v1#x" })]),
    fail: ec2({}, [c({ image: "nginx latest" })]),
    message: "Invalid 'image' setting for container 'app'.",
  },
  {
    rule: "image digest",
    pass: ec2({}, [c({ image: `repo/app@sha256:${HEX64}` })]),
    fail: ec2({}, [c({ image: "repo/app@sha256:abc" })]),
    message: "Invalid 'image' setting for container 'app'.",
  },
  {
    rule: "image length",
    pass: ec2({}, [c({ image: "i".repeat(255) })]),
    fail: ec2({}, [c({ image: "i".repeat(256) })]),
    message: "Invalid 'image' setting for container 'app'.",
  },
  {
    rule: "an essential container",
    pass: ec2({}, [c({ essential: false }), sidecar({ essential: true })]),
    fail: ec2({}, [c({ essential: false })]),
    message: "A task definition must have at least one essential container.",
  },
  {
    rule: "container cpu ≥ 0",
    pass: ec2({}, [c({ cpu: 0 })]),
    fail: ec2({}, [c({ cpu: -1 })]),
    message: "Invalid 'cpu' setting for container 'app'.",
  },
  {
    rule: "memory or reservation without task memory",
    pass: ec2({ memory: "512" }, [c({ memory: undefined })]),
    fail: ec2({}, [c({ memory: undefined })]),
    message: "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified.",
    seen: true,
  },
  {
    rule: "memory ≥ 6 MiB",
    pass: ec2({}, [c({ memory: 6 })]),
    fail: ec2({}, [c({ memory: 4 })]),
    message: "Invalid 'memory' setting for container 'app'.",
    seen: true,
  },
  {
    rule: "memoryReservation ≥ 6 MiB",
    pass: ec2({}, [c({ memory: undefined, memoryReservation: 6 })]),
    fail: ec2({}, [c({ memory: undefined, memoryReservation: 5 })]),
    message: "Invalid 'memoryReservation' setting for container 'app'.",
  },
  {
    rule: "memory ≥ memoryReservation",
    pass: ec2({}, [c({ memory: 256, memoryReservation: 256 })]),
    fail: ec2({}, [c({ memory: 128, memoryReservation: 256 })]),
    message: "Invalid 'memoryReservation' setting for container 'app'. It cannot be greater than 'memory'.",
  },
  {
    rule: "health check interval 5–300",
    pass: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], interval: 5 } })]),
    fail: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], interval: 4 } })]),
    message: "Invalid 'healthCheck.interval' setting for container 'app'. It must be between 5 and 300.",
  },
  {
    rule: "health check timeout 2–60",
    pass: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], timeout: 60 } })]),
    fail: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], timeout: 61 } })]),
    message: "Invalid 'healthCheck.timeout' setting for container 'app'. It must be between 2 and 60.",
  },
  {
    rule: "health check retries 1–10",
    pass: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], retries: 10 } })]),
    fail: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], retries: 0 } })]),
    message: "Invalid 'healthCheck.retries' setting for container 'app'. It must be between 1 and 10.",
  },
  {
    rule: "health check startPeriod 0–300",
    pass: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], startPeriod: 0 } })]),
    fail: ec2({}, [c({ healthCheck: { command: ["CMD", "true"], startPeriod: 301 } })]),
    message: "Invalid 'healthCheck.startPeriod' setting for container 'app'. It must be between 0 and 300.",
  },
  {
    rule: "health check command",
    pass: ec2({}, [c({ healthCheck: { command: ["CMD-SHELL", "exit 0"] } })]),
    fail: ec2({}, [c({ healthCheck: { command: [] } })]),
    message: "Invalid 'healthCheck.command' setting for container 'app'. It cannot be empty.",
  },
  {
    rule: "awslogs group and region",
    pass: ec2({}, [c({ logConfiguration: awslogs({ "awslogs-group": "g", "awslogs-region": "r" }) })]),
    fail: ec2({}, [c({ logConfiguration: awslogs({}) })]),
    message: "Log driver awslogs requires options: awslogs-region, awslogs-group",
    seen: true,
  },
  {
    rule: "restart attempt period 60–1800",
    pass: ec2({}, [c({ restartPolicy: { enabled: true, restartAttemptPeriod: 60 } })]),
    fail: ec2({}, [c({ restartPolicy: { enabled: true, restartAttemptPeriod: 59 } })]),
    message:
      "Invalid 'restartPolicy.restartAttemptPeriod' setting for container 'app'. It must be between 60 and 1800.",
  },
  {
    rule: "at most 50 ignored exit codes",
    pass: ec2({}, [c({ restartPolicy: { enabled: true, ignoredExitCodes: Array.from({ length: 50 }, (_, i) => i) } })]),
    fail: ec2({}, [c({ restartPolicy: { enabled: true, ignoredExitCodes: Array.from({ length: 51 }, (_, i) => i) } })]),
    message: "Invalid 'restartPolicy.ignoredExitCodes' setting for container 'app'. At most 50 exit codes are allowed.",
  },
  {
    rule: "at most 10 environment files",
    pass: ec2({}, [c({ environmentFiles: many(10, () => ({ type: "s3", value: "arn:aws:s3:::b/x.env" })) })]),
    fail: ec2({}, [c({ environmentFiles: many(11, () => ({ type: "s3", value: "arn:aws:s3:::b/x.env" })) })]),
    message: "Invalid 'environmentFiles' setting for container 'app'. At most 10 files are allowed.",
  },
  {
    rule: "ulimit soft ≤ hard",
    pass: ec2({}, [c({ ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 1024 }] })]),
    fail: ec2({}, [c({ ulimits: [{ name: "nofile", softLimit: 2048, hardLimit: 1024 }] })]),
    message: "Invalid ulimit 'nofile' for container 'app'. softLimit cannot be greater than hardLimit.",
  },
];

const NETWORK: Case[] = [
  {
    rule: "no port mappings in none mode",
    pass: mode("none"),
    fail: mode("none", { portMappings: [{ containerPort: 80 }] }),
    message: "Port mappings are not supported when networkMode=none.",
  },
  {
    rule: "containerPort required",
    pass: mode("bridge", { portMappings: [{ containerPort: 80 }] }),
    fail: mode("bridge", { portMappings: [{ hostPort: 80 }] }),
    message: "Invalid 'containerPort' setting for container 'app'.",
    seen: true,
  },
  {
    rule: "containerPort ≤ 65535",
    pass: mode("bridge", { portMappings: [{ containerPort: 65535 }] }),
    fail: mode("bridge", { portMappings: [{ containerPort: 65536 }] }),
    message: "Invalid 'containerPort' setting for container 'app'.",
    seen: true,
  },
  {
    rule: "hostPort 0–65535",
    pass: mode("bridge", { portMappings: [{ containerPort: 80, hostPort: 0 }] }),
    fail: mode("bridge", { portMappings: [{ containerPort: 80, hostPort: 70000 }] }),
    message: "Invalid 'hostPort' setting for container 'app'.",
  },
  {
    rule: "awsvpc host port = container port",
    pass: mode("awsvpc", { portMappings: [{ containerPort: 80, hostPort: 80 }] }),
    fail: mode("awsvpc", { portMappings: [{ containerPort: 80, hostPort: 8080 }] }),
    message: "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
    seen: true,
  },
  {
    rule: "host host port = container port",
    pass: mode("host", { portMappings: [{ containerPort: 80 }] }),
    fail: mode("host", { portMappings: [{ containerPort: 80, hostPort: 8080 }] }),
    message: "When networkMode=host, the host ports and container ports in port mappings must match.",
  },
  {
    rule: "a container port in one mapping",
    pass: mode("bridge", { portMappings: [{ containerPort: 80 }, { containerPort: 81, protocol: "udp" }] }),
    fail: mode("bridge", { portMappings: [{ containerPort: 80 }, { containerPort: 80, protocol: "udp" }] }),
    message: "Invalid 'containerPort' setting for container 'app'. Port 80 is used in more than one port mapping.",
  },
  {
    rule: "port mapping name",
    pass: mode("bridge", { portMappings: [{ containerPort: 80, name: "web_1" }] }),
    fail: mode("bridge", { portMappings: [{ containerPort: 80, name: "-Web" }] }),
    message:
      "Invalid port mapping name '-Web' for container 'app'. Use up to 64 lowercase letters, digits, '_' and '-', not starting with '-'.",
  },
  {
    rule: "port range first < last",
    pass: mode("bridge", { portMappings: [{ containerPortRange: "8000-8010" }] }),
    fail: mode("bridge", { portMappings: [{ containerPortRange: "9000-8000" }] }),
    message: "Invalid 'containerPortRange' setting for container 'app'. Use first-last with 1 ≤ first < last ≤ 65535.",
  },
  {
    rule: "port range only bridge/awsvpc",
    pass: mode("awsvpc", { portMappings: [{ containerPortRange: "8000-8010" }] }),
    fail: mode("host", { portMappings: [{ containerPortRange: "8000-8010" }] }),
    message: "Invalid 'containerPortRange' setting for container 'app'. Port ranges need networkMode bridge or awsvpc.",
  },
  {
    rule: "port range without hostPort",
    pass: mode("bridge", { portMappings: [{ containerPortRange: "8000-8010" }] }),
    fail: mode("bridge", { portMappings: [{ containerPortRange: "8000-8010", hostPort: 8000 }] }),
    message: "Invalid 'containerPortRange' setting for container 'app'. hostPort cannot be set with a port range.",
  },
  {
    rule: "port ranges do not overlap",
    pass: mode("bridge", { portMappings: [{ containerPort: 80 }, { containerPortRange: "8000-8010" }] }),
    fail: mode("bridge", { portMappings: [{ containerPort: 8005 }, { containerPortRange: "8000-8010" }] }),
    message:
      "Invalid 'containerPortRange' setting for container 'app'. Port ranges cannot overlap other port mappings.",
  },
  {
    rule: "at most 100 port ranges",
    pass: mode("bridge", {
      portMappings: many(100, (i) => ({ containerPortRange: `${10000 + 3 * i}-${10001 + 3 * i}` })),
    }),
    fail: mode("bridge", {
      portMappings: many(101, (i) => ({ containerPortRange: `${10000 + 3 * i}-${10001 + 3 * i}` })),
    }),
    message: "Invalid 'containerPortRange' setting for container 'app'. At most 100 port ranges are allowed.",
  },
  {
    rule: "links only in bridge",
    pass: ec2({}, [c({ links: ["side"] }), sidecar()]),
    fail: ec2({ networkMode: "awsvpc" }, [c({ links: ["side"] }), sidecar()]),
    message: "Links are not supported when networkMode=awsvpc.",
    seen: true,
  },
  {
    rule: "no hostname in awsvpc",
    pass: mode("bridge", { hostname: "web" }),
    fail: mode("awsvpc", { hostname: "web" }),
    message: "hostname is not supported on container when networkMode=awsvpc.",
    seen: true,
  },
  {
    rule: "no extraHosts in awsvpc",
    pass: mode("host", { extraHosts: [{ hostname: "db", ipAddress: "10.0.0.2" }] }),
    fail: mode("awsvpc", { extraHosts: [{ hostname: "db", ipAddress: "10.0.0.2" }] }),
    message: "extraHosts is not supported on container when networkMode=awsvpc.",
  },
];

const REFERENCES: Case[] = [
  {
    rule: "mount points name a volume",
    pass: ec2({ volumes: [{ name: "data" }] }, [c({ mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] })]),
    fail: ec2({}, [c({ mountPoints: [{ sourceVolume: "data", containerPath: "/d" }] })]),
    message: "Unknown volume 'data'.",
    seen: true,
  },
  {
    rule: "volumesFrom names another container",
    pass: ec2({}, [c({ volumesFrom: [{ sourceContainer: "side" }] }), sidecar()]),
    fail: ec2({}, [c({ volumesFrom: [{ sourceContainer: "ghost" }] })]),
    message:
      "Invalid 'volumesFrom' setting for container 'app'. 'ghost' is not another container of this task definition.",
  },
  {
    rule: "volumesFrom not itself",
    pass: ec2({}, [c({ volumesFrom: [{ sourceContainer: "side" }] }), sidecar()]),
    fail: ec2({}, [c({ volumesFrom: [{ sourceContainer: "app" }] })]),
    message:
      "Invalid 'volumesFrom' setting for container 'app'. 'app' is not another container of this task definition.",
  },
  {
    rule: "dependsOn names a container",
    pass: ec2({}, [c({ dependsOn: [{ containerName: "side", condition: "START" }] }), sidecar()]),
    fail: ec2({}, [c({ dependsOn: [{ containerName: "ghost", condition: "START" }] })]),
    message: "Cannot depend on container + 'ghost' because it does not exist",
    seen: true,
  },
  {
    rule: "COMPLETE/SUCCESS not on essential",
    pass: ec2({}, [c({ dependsOn: [{ containerName: "side", condition: "SUCCESS" }] }), sidecar()]),
    fail: ec2({}, [c({ dependsOn: [{ containerName: "side", condition: "COMPLETE" }] }), sidecar({ essential: true })]),
    message: "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container",
    seen: true,
  },
  {
    rule: "no dependency cycle",
    pass: ec2({}, [c({ dependsOn: [{ containerName: "side", condition: "START" }] }), sidecar()]),
    fail: ec2({}, [
      c({ dependsOn: [{ containerName: "side", condition: "START" }] }),
      sidecar({ dependsOn: [{ containerName: "app", condition: "HEALTHY" }] }),
    ]),
    message: "Container dependencies should not have a cycle",
  },
  {
    rule: "no self dependency",
    pass: ec2(),
    fail: ec2({}, [c({ dependsOn: [{ containerName: "app", condition: "START" }] })]),
    message: "Container dependencies should not have a cycle",
  },
];

const FARGATE: Case[] = [
  {
    rule: "Fargate needs awsvpc",
    pass: fargate(),
    fail: fargate({ networkMode: "bridge" }),
    message: "Fargate only supports network mode ‘awsvpc’.",
    seen: true,
  },
  {
    rule: "Fargate needs awsvpc (omitted mode)",
    pass: fargate(),
    fail: fargate({ networkMode: undefined }),
    message: "Fargate only supports network mode ‘awsvpc’.",
    seen: true,
  },
  {
    rule: "Fargate needs task cpu",
    pass: fargate(),
    fail: fargate({ cpu: undefined }),
    message: "Fargate requires that 'cpu' be defined at the task level.",
    seen: true,
  },
  {
    rule: "Fargate needs task memory",
    pass: fargate({}, { memory: 128 }),
    fail: fargate({ memory: undefined }, { memory: 128 }),
    message: "Fargate requires that 'memory' be defined at the task level.",
  },
  {
    rule: "Fargate size table",
    pass: fargate({ cpu: "512", memory: "4096" }),
    fail: fargate({ cpu: "256", memory: "4096" }),
    message: "No Fargate configuration exists for given values.",
    seen: true,
  },
  {
    rule: "Fargate: no privileged",
    pass: fargate({}, { privileged: false }),
    fail: fargate({}, { privileged: true }),
    message: "Fargate compatible task definitions do not support privileged containers",
  },
  {
    rule: "Fargate: no host sourcePath",
    pass: fargate({ volumes: [{ name: "scratch", host: {} }] }),
    fail: fargate({ volumes: [{ name: "logs", host: { sourcePath: "/var/log" } }] }),
    message: "Fargate compatible task definitions do not support sourcePath",
    seen: true,
  },
  {
    rule: "Fargate: no Docker volumes",
    pass: fargate({ volumes: [{ name: "scratch" }] }),
    fail: fargate({ volumes: [{ name: "d", dockerVolumeConfiguration: { scope: "task" } }] }),
    message: "Fargate compatible task definitions do not support dockerVolumeConfiguration",
  },
  {
    rule: "Fargate: no ipcMode",
    pass: fargate(),
    fail: fargate({ ipcMode: "task" }),
    message: "Tasks using the Fargate launch type do not support ipcMode.",
    seen: true,
  },
  {
    rule: "Fargate: pidMode task only",
    pass: fargate({ pidMode: "task" }),
    fail: fargate({ pidMode: "host" }),
    message: "Fargate compatible task definitions do not support pidMode host",
  },
  {
    rule: "Fargate log drivers",
    pass: fargate({}, { logConfiguration: { logDriver: "splunk" } }),
    fail: fargate({}, { logConfiguration: { logDriver: "json-file" } }),
    message: "Fargate compatible task definitions do not support log driver json-file",
  },
  {
    rule: "Fargate awslogs needs an execution role",
    pass: fargate({}, { logConfiguration: fullAwslogs }),
    fail: fargate({ executionRoleArn: undefined }, { logConfiguration: fullAwslogs }),
    message: "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
    seen: true,
  },
  {
    rule: "Fargate awslogs needs a stream prefix",
    pass: fargate({}, { logConfiguration: fullAwslogs }),
    fail: fargate({}, { logConfiguration: awslogs({ "awslogs-group": "g", "awslogs-region": "r" }) }),
    message: "Log driver awslogs requires options: awslogs-stream-prefix",
  },
  {
    rule: "Fargate ECR images need an execution role",
    pass: fargate({}, { image: ECR }),
    fail: fargate({ executionRoleArn: undefined }, { image: ECR }),
    message: "Fargate requires task definition to have execution role ARN to support ECR images.",
    seen: true,
  },
  {
    rule: "Fargate: no devices",
    pass: fargate(),
    fail: fargate({}, { linuxParameters: { devices: [{ hostPath: "/dev/fuse" }] } }),
    message: "Fargate compatible task definitions do not support devices",
  },
  {
    rule: "Fargate: no sharedMemorySize",
    pass: fargate(),
    fail: fargate({}, { linuxParameters: { sharedMemorySize: 64 } }),
    message: "Fargate compatible task definitions do not support sharedMemorySize",
  },
  {
    rule: "Fargate: no swap settings",
    pass: fargate(),
    fail: fargate({}, { linuxParameters: { maxSwap: 0 } }),
    message: "Fargate compatible task definitions do not support maxSwap or swappiness",
  },
  {
    rule: "Fargate adds only SYS_PTRACE",
    pass: fargate({}, { linuxParameters: { capabilities: { add: ["SYS_PTRACE"] } } }),
    fail: fargate({}, { linuxParameters: { capabilities: { add: ["NET_ADMIN"] } } }),
    message: "Fargate compatible task definitions do not support adding kernel capabilities other than SYS_PTRACE",
  },
  {
    rule: "Fargate: no dockerSecurityOptions",
    pass: fargate(),
    fail: fargate({}, { dockerSecurityOptions: ["no-new-privileges"] }),
    message: "Fargate compatible task definitions do not support dockerSecurityOptions",
  },
  {
    rule: "Fargate stopTimeout ≤ 120",
    pass: fargate({}, { stopTimeout: 120 }),
    fail: fargate({}, { stopTimeout: 121 }),
    message: "Invalid 'stopTimeout' setting for container 'app'. Fargate allows at most 120 seconds.",
  },
];

const EXTERNAL: Case[] = [
  {
    rule: "EXTERNAL: no awsvpc",
    pass: ec2({ requiresCompatibilities: ["EXTERNAL"], networkMode: "host" }),
    fail: ec2({ requiresCompatibilities: ["EXTERNAL"], networkMode: "awsvpc" }),
    message: "EXTERNAL compatible task definitions do not support networkMode awsvpc",
  },
  {
    rule: "EXTERNAL: no EFS",
    pass: ec2({ requiresCompatibilities: ["EXTERNAL"] }),
    fail: ec2({
      requiresCompatibilities: ["EXTERNAL"],
      volumes: [{ name: "efs", efsVolumeConfiguration: { fileSystemId: "fs-1" } }],
    }),
    message: "EXTERNAL compatible task definitions do not support efsVolumeConfiguration",
  },
  {
    rule: "EXTERNAL: no App Mesh proxy",
    pass: ec2({ requiresCompatibilities: ["EXTERNAL"] }),
    fail: ec2({ requiresCompatibilities: ["EXTERNAL"], proxyConfiguration: { containerName: "app" } }),
    message: "EXTERNAL compatible task definitions do not support proxyConfiguration",
  },
];

const TAGS: Case[] = [
  {
    rule: "at most 50 tags",
    pass: ec2({ tags: many(50, (i) => ({ key: `k${i}`, value: "v" })) }),
    fail: ec2({ tags: many(51, (i) => ({ key: `k${i}`, value: "v" })) }),
    code: IPE,
    message: "A resource can have at most 50 tags.",
  },
  {
    rule: "tag key 1–128 characters",
    pass: ec2({ tags: [{ key: "k".repeat(128), value: "" }] }),
    fail: ec2({ tags: [{ key: "", value: "v" }] }),
    code: IPE,
    message: "Tag keys must be between 1 and 128 characters.",
  },
  {
    rule: "tag value ≤ 256 characters",
    pass: ec2({ tags: [{ key: "k", value: "v".repeat(256) }] }),
    fail: ec2({ tags: [{ key: "k", value: "v".repeat(257) }] }),
    code: IPE,
    message: "Tag values must be at most 256 characters (key 'k').",
  },
  {
    rule: "tag key characters",
    pass: ec2({ tags: [{ key: "team name:é/+=.@_-", value: "x" }] }),
    fail: ec2({ tags: [{ key: "cost#center", value: "x" }] }),
    code: IPE,
    message: "Tag key 'cost#center' contains invalid characters.",
  },
  {
    rule: "tag value characters",
    pass: ec2({ tags: [{ key: "k", value: "a b" }] }),
    fail: ec2({ tags: [{ key: "k", value: "a*b" }] }),
    code: IPE,
    message: "Tag value of key 'k' contains invalid characters.",
  },
  {
    rule: "aws: prefix reserved",
    pass: ec2({ tags: [{ key: "awsome", value: "x" }] }),
    fail: ec2({ tags: [{ key: "AWS:owner", value: "x" }] }),
    code: IPE,
    message: "Tag keys beginning with 'aws:' are reserved for AWS use (key 'AWS:owner').",
  },
  {
    rule: "tag keys unique",
    pass: ec2({
      tags: [
        { key: "a", value: "1" },
        { key: "b", value: "1" },
      ],
    }),
    fail: ec2({
      tags: [
        { key: "a", value: "1" },
        { key: "a", value: "2" },
      ],
    }),
    code: IPE,
    message: "Tag keys must be unique; 'a' is given more than once.",
  },
];

describe.each([
  ["request shape", SHAPE],
  ["task", TASK],
  ["container", CONTAINER],
  ["network", NETWORK],
  ["references", REFERENCES],
  ["Fargate", FARGATE],
  ["EXTERNAL", EXTERNAL],
  ["tags", TAGS],
])("%s rules", (_group, cases) => {
  test.each(cases)("$rule", ({ pass, fail, code, message }) => {
    const ok = validateRegisterTaskDefinition(pass);
    expect(ok.ok ? "ok" : ok.rejection).toBe("ok");
    expect(validateRegisterTaskDefinition(fail)).toEqual({ ok: false, rejection: { code: code ?? CE, message } });
  });
});

describe("request leniency", () => {
  test("null members count as absent (console exports are full of them)", () => {
    const r = validateRegisterTaskDefinition(
      ec2({ taskRoleArn: null, ipcMode: null }, [c({ entryPoint: null, links: null })]),
    );
    expect(r.ok).toBe(true);
  });

  test("unknown members are ignored, not stored", () => {
    const r = validateRegisterTaskDefinition(
      ec2({ compatibilities: ["EC2"], status: "ACTIVE" }, [c({ secretThing: 1 })]),
    );
    if (!r.ok) throw new Error(r.rejection.message);
    expect(r.spec).not.toHaveProperty("status");
    expect(r.spec.containerDefinitions[0]).not.toHaveProperty("secretThing");
  });

  test("a request that is not an object is refused, not thrown", () => {
    expect(validateRegisterTaskDefinition("nope")).toEqual({
      ok: false,
      rejection: { code: SE, message: "STRING_VALUE cannot be converted to Structure." },
    });
  });
});

describe("units", () => {
  test.each([
    ["1024", 1024],
    ["1 vCPU", 1024],
    ["1 vcpu", 1024],
    ["0.5 vCPU", 512],
    [".25 vcpu", 256],
    ["2vCPU", 2048],
    ["196608", 196608],
    ["196609", null],
    ["0.1 vCPU", null],
    ["1.5", null],
  ])("cpu %s → %s", (text, units) => expect(parseTaskCpu(text)).toBe(units));

  test.each([
    ["2048", 2048],
    ["1GB", 1024],
    ["1 GB", 1024],
    ["0.5GB", 512],
    ["2 gb", 2048],
    ["0", null],
    ["1 MB", null],
  ])("memory %s → %s", (text, mib) => expect(parseTaskMemory(text)).toBe(mib));

  test.each([
    [256, 512, true],
    [256, 1536, false],
    [256, 2048, true],
    [512, 1024, true],
    [512, 5120, false],
    [1024, 8192, true],
    [2048, 16384, true],
    [4096, 30720, true],
    [4096, 31744, false],
    [8192, 20480, true],
    [8192, 18432, false],
    [16384, 40960, true],
    [16384, 36864, false],
    [128, 512, false],
  ])("Fargate %i cpu / %i MiB → %s", (cpu, mem, ok) => expect(isFargateSize(cpu, mem)).toBe(ok));
});

/** The spec of a request that must pass. */
function specOf(req: Obj) {
  const r = validateRegisterTaskDefinition(req);
  if (!r.ok) throw new Error(`${r.rejection.code}: ${r.rejection.message}`);
  return r.spec;
}
const firstContainer = (req: Obj) => specOf(req).containerDefinitions[0];
const firstPort = (req: Obj) => firstContainer(req)?.portMappings?.[0];

describe("normalisation (as ECS echoes the definition)", () => {
  test("container defaults: essential, cpu 0, empty lists", () => {
    expect(
      firstContainer(ec2({}, [{ name: "sleep", image: "busybox", memory: 10, command: ["sleep", "360"] }])),
    ).toEqual({
      name: "sleep",
      image: "busybox",
      cpu: 0,
      memory: 10,
      command: ["sleep", "360"],
      portMappings: [],
      essential: true,
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      systemControls: [],
    });
  });

  test("an explicit essential: false is kept", () => {
    expect(specOf(ec2({}, [c(), sidecar()])).containerDefinitions[1]?.essential).toBe(false);
  });

  test("task defaults: empty volumes and placementConstraints; networkMode only when given", () => {
    const spec = specOf(ec2());
    expect(spec.volumes).toEqual([]);
    expect(spec.placementConstraints).toEqual([]);
    expect(spec).not.toHaveProperty("networkMode");
    expect(spec).not.toHaveProperty("requiresCompatibilities");
    expect(specOf(ec2({ networkMode: "host" })).networkMode).toBe("host");
  });

  test.each([
    ["1 vCPU", "1024"],
    ["1 vcpu", "1024"],
    ["0.5 vCPU", "512"],
    ["1024", "1024"],
  ])("task cpu %s → %s", (cpu, units) => expect(specOf(ec2({ cpu })).cpu).toBe(units));

  test.each([
    ["2GB", "2048"],
    ["1 GB", "1024"],
    ["0.5GB", "512"],
    ["3072", "3072"],
  ])("task memory %s → %s", (memory, mib) => expect(specOf(ec2({ memory })).memory).toBe(mib));

  test("port mappings get protocol tcp", () => {
    expect(firstPort(mode("bridge", { portMappings: [{ containerPort: 80, hostPort: 8080 }] }))).toEqual({
      containerPort: 80,
      hostPort: 8080,
      protocol: "tcp",
    });
    expect(firstPort(mode("bridge", { portMappings: [{ containerPort: 53, protocol: "udp" }] }))?.protocol).toBe("udp");
  });

  test.each(["awsvpc", "host"])("%s: hostPort = containerPort when omitted or 0", (networkMode) => {
    expect(firstPort(mode(networkMode, { portMappings: [{ containerPort: 80 }] }))?.hostPort).toBe(80);
    expect(firstPort(mode(networkMode, { portMappings: [{ containerPort: 80, hostPort: 0 }] }))?.hostPort).toBe(80);
  });

  test("bridge: an omitted hostPort stays omitted (dynamic port)", () => {
    expect(firstPort(mode("bridge", { portMappings: [{ containerPort: 80 }] }))).not.toHaveProperty("hostPort");
  });

  test("awsvpc port ranges get no hostPort", () => {
    expect(firstPort(mode("awsvpc", { portMappings: [{ containerPortRange: "8000-8010" }] }))).toEqual({
      containerPortRange: "8000-8010",
      protocol: "tcp",
    });
  });

  test("health check defaults: interval 30, timeout 5, retries 3", () => {
    expect(
      firstContainer(ec2({}, [c({ healthCheck: { command: ["CMD", "true"], retries: 5 } })]))?.healthCheck,
    ).toEqual({
      command: ["CMD", "true"],
      interval: 30,
      timeout: 5,
      retries: 5,
    });
  });

  test("tags are returned beside the spec, a missing value as ''", () => {
    const r = validateRegisterTaskDefinition(ec2({ tags: [{ key: "team", value: "a" }, { key: "flag" }] }));
    expect(r.ok && r.tags).toEqual([
      { key: "team", value: "a" },
      { key: "flag", value: "" },
    ]);
    expect(r.ok && r.spec).not.toHaveProperty("tags");
  });
});

describe("compatibilities", () => {
  test.each<[string, Obj, string[]]>([
    ["bridge (default)", ec2(), ["EXTERNAL", "EC2"]],
    ["host", ec2({ networkMode: "host" }), ["EXTERNAL", "EC2"]],
    [
      "Fargate-valid awsvpc, not required",
      ec2({ networkMode: "awsvpc", cpu: "256", memory: "512" }),
      ["EC2", "FARGATE"],
    ],
    ["awsvpc without a task size", ec2({ networkMode: "awsvpc" }), ["EC2"]],
    ["required FARGATE", fargate(), ["EC2", "FARGATE"]],
    [
      "bridge with an EFS volume",
      ec2({ volumes: [{ name: "e", efsVolumeConfiguration: { fileSystemId: "fs-1" } }] }),
      ["EC2"],
    ],
    [
      "required MANAGED_INSTANCES",
      ec2({ requiresCompatibilities: ["MANAGED_INSTANCES"] }),
      ["EXTERNAL", "EC2", "MANAGED_INSTANCES"],
    ],
    [
      "Fargate-sized but privileged",
      ec2({ networkMode: "awsvpc", cpu: "256", memory: "512" }, [c({ privileged: true })]),
      ["EC2"],
    ],
  ])("%s → %j", (_name, req, expected) => expect(specOf(req).compatibilities).toEqual(expected));

  test("requiresCompatibilities is echoed as given", () => {
    expect(specOf(fargate()).requiresCompatibilities).toEqual(["FARGATE"]);
  });
});

describe("requiresAttributes", () => {
  const names = (req: Obj) => specOf(req).requiresAttributes.map((a) => a.name);

  test("a plain definition needs nothing", () => expect(names(ec2())).toEqual([]));

  test("awslogs with an execution role on awsvpc, with task role and health check", () => {
    expect(
      names(
        fargate(
          { taskRoleArn: "arn:aws:iam::123456789012:role/task" },
          {
            logConfiguration: fullAwslogs,
            healthCheck: { command: ["CMD", "true"] },
          },
        ),
      ),
    ).toEqual([
      "com.amazonaws.ecs.capability.logging-driver.awslogs",
      "com.amazonaws.ecs.capability.docker-remote-api.1.18",
      "com.amazonaws.ecs.capability.docker-remote-api.1.19",
      "ecs.capability.execution-role-awslogs",
      "ecs.capability.container-health-check",
      "com.amazonaws.ecs.capability.task-iam-role",
      "ecs.capability.task-eni",
    ]);
  });

  test("task-level cpu and memory add no attribute, on an EC2-only definition too", () => {
    expect(names(fargate())).toEqual(["ecs.capability.task-eni"]);
    expect(names(ec2({ requiresCompatibilities: ["EC2"], cpu: "512", memory: "717" }))).toEqual([]);
  });

  test("an ECR image pulled by the execution role needs ecr-auth as well", () => {
    expect(names(ec2({ executionRoleArn: EXEC }, [c({ image: ECR })]))).toEqual([
      "com.amazonaws.ecs.capability.ecr-auth",
      "ecs.capability.execution-role-ecr-pull",
    ]);
  });

  test.each<[string, Obj, string]>([
    [
      "dependsOn",
      ec2({}, [c({ dependsOn: [{ containerName: "side", condition: "START" }] }), sidecar()]),
      "ecs.capability.container-ordering",
    ],
    ["privileged", ec2({}, [c({ privileged: true })]), "com.amazonaws.ecs.capability.privileged-container"],
    [
      "ulimits",
      ec2({}, [c({ ulimits: [{ name: "nofile", softLimit: 1, hardLimit: 1 }] })]),
      "com.amazonaws.ecs.capability.docker-remote-api.1.18",
    ],
    [
      "initProcessEnabled",
      ec2({}, [c({ linuxParameters: { initProcessEnabled: true } })]),
      "com.amazonaws.ecs.capability.docker-remote-api.1.25",
    ],
    [
      "task role in host mode",
      ec2({ networkMode: "host", taskRoleArn: "r" }),
      "com.amazonaws.ecs.capability.task-iam-role-network-host",
    ],
    [
      "SSM secrets",
      ec2({}, [c({ secrets: [{ name: "A", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/a" }] })]),
      "ecs.capability.secrets.ssm.environment-variables",
    ],
    [
      "Secrets Manager secrets",
      ec2({}, [c({ secrets: [{ name: "A", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:a" }] })]),
      "ecs.capability.secrets.asm.environment-variables",
    ],
    [
      "ECR image with an execution role",
      ec2({ executionRoleArn: EXEC }, [c({ image: ECR })]),
      "ecs.capability.execution-role-ecr-pull",
    ],
    ["ECR image without one", ec2({}, [c({ image: ECR })]), "com.amazonaws.ecs.capability.ecr-auth"],
    ["restart policy", ec2({}, [c({ restartPolicy: { enabled: true } })]), "ecs.capability.container-restart-policy"],
    [
      "EFS volume",
      ec2({ volumes: [{ name: "e", efsVolumeConfiguration: { fileSystemId: "fs-1" } }] }),
      "ecs.capability.efs",
    ],
    [
      "Docker volume plugin",
      ec2({ volumes: [{ name: "d", dockerVolumeConfiguration: { driver: "rexray/ebs" } }] }),
      "ecs.capability.docker-plugin.rexray/ebs",
    ],
    ["pidMode", ec2({ pidMode: "task" }), "ecs.capability.pid-ipc-namespace-sharing"],
  ])("%s → %s", (_feature, req, attribute) => expect(names(req)).toContain(attribute));

  test("no duplicates", () => {
    const list = names(
      ec2({}, [
        c({ logConfiguration: { logDriver: "json-file" }, dockerLabels: { a: "b" } }),
        sidecar({ ulimits: [{ name: "core", softLimit: 0, hardLimit: 0 }] }),
      ]),
    );
    expect(list).toEqual([
      "com.amazonaws.ecs.capability.logging-driver.json-file",
      "com.amazonaws.ecs.capability.docker-remote-api.1.18",
    ]);
  });
});
