import { containerName, labels } from "../../events/agent.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import type { ContainerDefinition, Volume } from "../../events/taskdef.shapes.ts";
import type { CreateContainerRequest } from "./docker/port.ts";

/**
 * Pure mapping of one ECS container definition (with its task) onto a Docker create request.
 * No I/O, no clock: the same inputs always give the same request, so a retried start creates
 * the same container (same name, same labels).
 *
 * Resource limits, following amazon-ecs-agent on Linux:
 *  - `cpu` → CpuShares; values below 2 (including absent/0) become 2, Docker's minimum share
 *    (ecs-agent `minimumCPUShare = 2`).
 *  - `memory` (MiB) → Memory (hard limit, bytes); `memoryReservation` → MemoryReservation (soft).
 *  - Task-level `cpu`/`memory`: ECS puts the task in its own cgroup (`/ecs/<taskId>`) so the SUM
 *    of the containers is capped. Berth does not manage host cgroups; it caps EACH container at the
 *    task's limit instead (NanoCpus = task cpu / 1024 cores; Memory = task memory when the container
 *    sets no hard limit of its own). A single container can never exceed the task's size; several
 *    together can, which placement accounts for anyway (the task reserves its task-level size).
 */

/** ECS's default stop timeout (seconds between SIGTERM and SIGKILL) when neither definition nor agent sets one. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;
/** Docker refuses fewer than 2 CPU shares; ECS's agent rounds up to it (ecs-agent task_linux.go). */
export const MIN_CPU_SHARES = 2;
const MIB = 1024 * 1024;
const NS_PER_S = 1_000_000_000;
/** ECS health check defaults (seconds): interval 30, timeout 5, retries 3, startPeriod off. */
const HEALTH_DEFAULTS = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 };

export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
}

export interface ContainerConfigContext {
  instanceId: string;
  cluster: string;
  /** The agent's default stop timeout (ECS_CONTAINER_STOP_TIMEOUT); a definition's stopTimeout wins. */
  stopTimeoutSeconds?: number;
  /** Privileged containers run only when the agent allows them (ECS_DISABLE_PRIVILEGED). */
  allowPrivileged?: boolean;
  /**
   * Docker network mode override: awsvpc tasks join their pause container's namespace
   * (`container:<pause>`); the executor passes it. Defaults from the task's networkMode.
   */
  networkMode?: string;
  /**
   * Run `awslogs` containers with `json-file` (their options dropped): off AWS the awslogs driver
   * cannot reach CloudWatch and Docker would refuse to start the container. Default true.
   * `awsfirelens` is not a Docker driver at all and always becomes json-file.
   */
  awslogsFallback?: boolean;
  /**
   * The task's secret values by valueFrom (secrets.ts): `secrets` become environment variables
   * (over an `environment` entry of the same name), `logConfiguration.secretOptions` log options.
   */
  secrets?: ReadonlyMap<string, string>;
}

/** What the agent lets a task reach of its host (`berth agent --allow-…`). */
export interface HostAccess {
  privileged: boolean;
  hostNetwork: boolean;
  hostMounts: boolean;
}

/**
 * Why this agent refuses a task, or undefined. Privileged containers, the host's network
 * namespace and bind mounts of host paths each give a task the host itself (its loopback services,
 * its Docker socket, its files), so each runs only where the agent's operator allowed it. Checked
 * before anything of the task is pulled or created.
 */
export function hostAccessRefusal(spec: TaskRuntimeSpec, allow: HostAccess): string | undefined {
  const refuse = (what: string, flag: string) =>
    `CannotCreateContainerError: ${what} disabled on this container instance (berth agent ${flag})`;
  if (!allow.privileged && spec.containers.some((c) => c.privileged))
    return refuse("privileged containers are", "--allow-privileged");
  if (!allow.hostNetwork && spec.networkMode === "host") return refuse("the host network mode is", "--allow-host-network");
  const bind = spec.volumes.find((v) => v.host?.sourcePath);
  if (!allow.hostMounts && bind)
    return refuse(`host bind mounts (volume ${bind.name ?? ""}: ${bind.host?.sourcePath}) are`, "--allow-host-mounts");
  return undefined;
}

/** Docker volume name of a task volume: task-scoped volumes are per task, shared ones keep their name. */
export function dockerVolumeName(taskId: string, volume: Volume): string {
  const name = volume.name ?? "";
  return volume.dockerVolumeConfiguration?.scope === "shared" ? name : `berth-${taskId}-${name}`;
}

/** Labels the agent sets on everything it creates for a task (containers, networks, volumes). */
export function taskLabels(spec: TaskRuntimeSpec, ctx: Pick<ContainerConfigContext, "instanceId" | "cluster">) {
  return {
    [labels.managed]: "true",
    [labels.taskArn]: spec.taskArn,
    [labels.taskId]: spec.taskId,
    [labels.cluster]: ctx.cluster,
    [labels.instanceId]: ctx.instanceId,
  };
}

export function containerConfig(
  def: ContainerDefinition,
  spec: TaskRuntimeSpec,
  ctx: ContainerConfigContext,
): CreateContainerRequest {
  const mode = spec.networkMode;
  const networkMode = ctx.networkMode ?? (mode === "awsvpc" ? "bridge" : mode);
  if (def.privileged && !ctx.allowPrivileged) {
    throw new ContainerConfigError("privileged containers are disabled on this container instance");
  }
  const taskCpu = numeric(spec.cpu);
  const taskMemory = numeric(spec.memory);
  const memory = def.memory ?? (def.memoryReservation === undefined ? taskMemory : undefined);

  const req: CreateContainerRequest = {
    name: containerName(spec.taskId, def.name),
    Image: def.image,
    Labels: {
      ...(def.dockerLabels ?? {}),
      ...taskLabels(spec, ctx),
      [labels.containerName]: def.name,
    },
    StopTimeout: def.stopTimeout ?? ctx.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS,
    HostConfig: {
      CpuShares: Math.max(MIN_CPU_SHARES, def.cpu ?? 0),
      NetworkMode: networkMode,
    },
  };
  const hc = req.HostConfig;
  if (def.command) req.Cmd = def.command;
  if (def.entryPoint) req.Entrypoint = def.entryPoint;
  if (def.environment?.length) {
    req.Env = def.environment.filter((e) => e.name).map((e) => `${e.name}=${e.value ?? ""}`);
  }
  if (def.secrets?.length) {
    const names = new Set(def.secrets.map((s) => s.name));
    req.Env = [
      ...(req.Env ?? []).filter((e) => !names.has(e.slice(0, e.indexOf("=")))),
      ...def.secrets.map((s) => `${s.name}=${secretValue(ctx, s.valueFrom)}`),
    ];
  }
  if (def.workingDirectory) req.WorkingDir = def.workingDirectory;
  if (def.user) req.User = def.user;
  // Docker refuses a hostname in host mode and in a joined namespace (awsvpc); ECS rejects both too.
  if (def.hostname && (networkMode === "bridge" || networkMode === "none")) req.Hostname = def.hostname;
  if (def.disableNetworking) req.NetworkDisabled = true;
  if (def.interactive) req.OpenStdin = true;
  if (def.pseudoTerminal) req.Tty = true;

  if (memory !== undefined) hc.Memory = memory * MIB;
  if (def.memoryReservation !== undefined) hc.MemoryReservation = def.memoryReservation * MIB;
  if (taskCpu !== undefined) hc.NanoCpus = Math.round((taskCpu / 1024) * NS_PER_S);

  portConfig(def, networkMode, req);
  if (def.links?.length && networkMode === "bridge") {
    hc.Links = def.links.map((l) => {
      const [target = l, alias] = l.split(":");
      return `${containerName(spec.taskId, target)}:${alias ?? target}`;
    });
  }
  if (def.healthCheck) req.Healthcheck = healthcheck(def.healthCheck);
  mountConfig(def, spec, hc);
  if (def.ulimits?.length)
    hc.Ulimits = def.ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit }));
  if (def.readonlyRootFilesystem) hc.ReadonlyRootfs = true;
  if (def.privileged) hc.Privileged = true;
  if (def.extraHosts?.length) hc.ExtraHosts = def.extraHosts.map((h) => `${h.hostname}:${h.ipAddress}`);
  if (def.dnsServers?.length) hc.Dns = def.dnsServers;
  if (def.dnsSearchDomains?.length) hc.DnsSearch = def.dnsSearchDomains;
  if (def.dockerSecurityOptions?.length) hc.SecurityOpt = def.dockerSecurityOptions;
  if (def.logConfiguration) {
    const driver = def.logConfiguration.logDriver;
    const replace = driver === "awsfirelens" || (driver === "awslogs" && (ctx.awslogsFallback ?? true));
    const secretOptions = Object.fromEntries(
      (def.logConfiguration.secretOptions ?? []).map((o) => [o.name, secretValue(ctx, o.valueFrom)]),
    );
    hc.LogConfig = replace
      ? { Type: "json-file", Config: {} }
      : { Type: driver, Config: { ...(def.logConfiguration.options ?? {}), ...secretOptions } };
  }
  linuxParameters(def, hc);
  if (def.systemControls?.length) {
    hc.Sysctls = Object.fromEntries(
      def.systemControls.filter((s) => s.namespace).map((s) => [s.namespace as string, s.value ?? ""]),
    );
  }
  if (spec.pidMode === "host") hc.PidMode = "host";
  if (spec.ipcMode === "host") hc.IpcMode = "host";
  else if (spec.ipcMode === "none") hc.IpcMode = "none";
  return req;
}

function secretValue(ctx: ContainerConfigContext, valueFrom: string): string {
  const v = ctx.secrets?.get(valueFrom);
  if (v === undefined) throw new ContainerConfigError(`the secret ${valueFrom} was not resolved`);
  return v;
}

function numeric(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function portConfig(def: ContainerDefinition, networkMode: string, req: CreateContainerRequest): void {
  const mappings = (def.portMappings ?? []).filter((p) => p.containerPort !== undefined);
  // A joined namespace (awsvpc's `container:<pause>`) takes no port options: Docker refuses them.
  if (mappings.length === 0 || networkMode === "none" || networkMode.startsWith("container:")) return;
  req.ExposedPorts = {};
  const bindings: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
  for (const p of mappings) {
    const key = `${p.containerPort}/${p.protocol ?? "tcp"}`;
    req.ExposedPorts[key] = {};
    // Bridge only: hostPort absent/0 → "" asks Docker for a dynamic port from the ephemeral range.
    if (networkMode === "bridge") {
      bindings[key] = [...(bindings[key] ?? []), { HostPort: p.hostPort ? String(p.hostPort) : "" }];
    }
  }
  if (Object.keys(bindings).length) req.HostConfig.PortBindings = bindings;
}

function healthcheck(
  h: NonNullable<ContainerDefinition["healthCheck"]>,
): NonNullable<CreateContainerRequest["Healthcheck"]> {
  const [first, ...rest] = h.command;
  // ECS: CMD (exec) or CMD-SHELL (shell); a command with neither prefix is taken as CMD.
  const test = first === "CMD" || first === "CMD-SHELL" ? h.command : ["CMD", ...(first ? [first] : []), ...rest];
  const s = (v: number | undefined, d: number) => (v ?? d) * NS_PER_S;
  return {
    Test: test,
    Interval: s(h.interval, HEALTH_DEFAULTS.interval),
    Timeout: s(h.timeout, HEALTH_DEFAULTS.timeout),
    Retries: h.retries ?? HEALTH_DEFAULTS.retries,
    StartPeriod: s(h.startPeriod, HEALTH_DEFAULTS.startPeriod),
  };
}

function mountConfig(def: ContainerDefinition, spec: TaskRuntimeSpec, hc: CreateContainerRequest["HostConfig"]): void {
  const mounts: NonNullable<CreateContainerRequest["HostConfig"]["Mounts"]> = [];
  for (const mp of def.mountPoints ?? []) {
    if (!mp.sourceVolume || !mp.containerPath) continue;
    const volume = spec.volumes.find((v) => v.name === mp.sourceVolume);
    if (!volume) throw new ContainerConfigError(`mount point refers to unknown volume ${mp.sourceVolume}`);
    const readOnly = mp.readOnly ?? false;
    if (volume.host?.sourcePath) {
      mounts.push({ Type: "bind", Source: volume.host.sourcePath, Target: mp.containerPath, ReadOnly: readOnly });
    } else {
      // Docker volumes, and ECS's "host without sourcePath" (a Docker-managed path for the task's life).
      mounts.push({
        Type: "volume",
        Source: dockerVolumeName(spec.taskId, volume),
        Target: mp.containerPath,
        ReadOnly: readOnly,
      });
    }
  }
  if (mounts.length) hc.Mounts = mounts;
  const from = (def.volumesFrom ?? []).filter((v) => v.sourceContainer);
  if (from.length) {
    hc.VolumesFrom = from.map(
      (v) => `${containerName(spec.taskId, v.sourceContainer as string)}${v.readOnly ? ":ro" : ""}`,
    );
  }
}

function linuxParameters(def: ContainerDefinition, hc: CreateContainerRequest["HostConfig"]): void {
  const lp = def.linuxParameters;
  if (!lp) return;
  if (lp.capabilities?.add?.length) hc.CapAdd = lp.capabilities.add;
  if (lp.capabilities?.drop?.length) hc.CapDrop = lp.capabilities.drop;
  if (lp.initProcessEnabled) hc.Init = true;
  if (lp.sharedMemorySize !== undefined) hc.ShmSize = lp.sharedMemorySize * MIB;
  if (lp.tmpfs?.length) {
    hc.Tmpfs = Object.fromEntries(
      lp.tmpfs.map((t) => [t.containerPath, [`size=${t.size}m`, ...(t.mountOptions ?? [])].join(",")]),
    );
  }
  if (lp.swappiness !== undefined) hc.MemorySwappiness = lp.swappiness;
  if (lp.maxSwap !== undefined && hc.Memory !== undefined) hc.MemorySwap = hc.Memory + lp.maxSwap * MIB;
  if (lp.devices?.length) {
    hc.Devices = lp.devices.map((d) => ({
      PathOnHost: d.hostPath,
      PathInContainer: d.containerPath ?? d.hostPath,
      CgroupPermissions: (d.permissions ?? ["read", "write", "mknod"]).map((p) => p[0]).join(""),
    }));
  }
}
