/**
 * The agent's narrow view of a Docker engine: containers and images, never tasks. Everything the
 * agent does to Docker goes through this port, so tests can substitute it and the adapter
 * (dockerode.ts) is the only file that knows dockerode.
 *
 * Every call takes `CallOptions` (an AbortSignal and/or a timeout); every failure is a
 * `DockerError` whose `kind` says what the caller may do about it:
 *
 *   retriable   the engine was unreachable, slow or busy: try again later
 *   terminal    the engine refused the request: retrying the same request will fail the same way
 *   not-found   the container / image does not exist
 */

export type DockerErrorKind = "retriable" | "terminal" | "not-found";

export class DockerError extends Error {
  override readonly name = "DockerError";
  constructor(
    readonly kind: DockerErrorKind,
    message: string,
    /** HTTP status from the engine, when there was a response. */
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isDockerError = (err: unknown, kind?: DockerErrorKind): err is DockerError =>
  err instanceof DockerError && (kind === undefined || err.kind === kind);

export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds; the adapter applies a per-call default when neither this nor a signal is given. */
  timeoutMs?: number;
}

/** Docker Engine API `POST /containers/create` body: the subset the agent sets. */
export interface CreateContainerRequest {
  name: string;
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  Labels: Record<string, string>;
  StopTimeout?: number;
  ExposedPorts?: Record<string, Record<string, never>>;
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    Retries?: number;
    StartPeriod?: number;
  };
  NetworkDisabled?: boolean;
  OpenStdin?: boolean;
  Tty?: boolean;
  HostConfig: {
    CpuShares?: number;
    NanoCpus?: number;
    Memory?: number;
    MemoryReservation?: number;
    MemorySwap?: number;
    MemorySwappiness?: number;
    NetworkMode?: string;
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]>;
    Links?: string[];
    Binds?: string[];
    Mounts?: { Type: "bind" | "volume" | "tmpfs"; Source?: string; Target: string; ReadOnly?: boolean }[];
    VolumesFrom?: string[];
    Ulimits?: { Name: string; Soft: number; Hard: number }[];
    ReadonlyRootfs?: boolean;
    Privileged?: boolean;
    ExtraHosts?: string[];
    Dns?: string[];
    DnsSearch?: string[];
    LogConfig?: { Type: string; Config?: Record<string, string> };
    SecurityOpt?: string[];
    CapAdd?: string[];
    CapDrop?: string[];
    Init?: boolean;
    ShmSize?: number;
    Tmpfs?: Record<string, string>;
    Sysctls?: Record<string, string>;
    PidMode?: string;
    IpcMode?: string;
    Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  };
}

export type ContainerRunState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

/** What the agent reads back from `GET /containers/{id}/json`. */
export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  image: string;
  /** The image id (sha256:…) the container was created from. */
  imageId: string;
  labels: Record<string, string>;
  state: {
    status: ContainerRunState;
    running: boolean;
    exitCode: number;
    oomKilled: boolean;
    error: string;
    /** Epoch ms; undefined when never started. */
    startedAt?: number;
    finishedAt?: number;
    health?: "starting" | "healthy" | "unhealthy" | "none";
  };
  networkMode: string;
  /** Published ports: "80/tcp" → bindings. */
  ports: Record<string, { hostIp: string; hostPort: string }[] | null>;
  /** Network name → address, for the networks the container is attached to. */
  networks: Record<string, { ipAddress: string; macAddress: string }>;
  stopTimeout?: number;
}

/** One row of `GET /containers/json`. */
export interface ContainerSummary {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: ContainerRunState;
}

/** Credentials for one pull (Docker's X-Registry-Auth): never stored, never logged. */
export interface RegistryCredentials {
  username: string;
  password: string;
  /** The registry host the credentials are for, e.g. `registry.example.com:5000`. */
  serveraddress: string;
}

export interface ImageInfo {
  id: string;
  repoDigests: string[];
  repoTags: string[];
}

export interface EngineInfo {
  ncpu: number;
  memTotalBytes: number;
  architecture: string;
  osType: string;
  logDrivers: string[];
  cgroupDriver: string;
  cgroupVersion: string;
  name: string;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  minApiVersion: string;
}

/** One container event from `GET /events`. */
export interface ContainerEvent {
  action: string;
  id: string;
  labels: Record<string, string>;
  /** Epoch ms. */
  at: number;
}

export interface EventStream {
  /** Iteration ends when the stream breaks (engine restart, socket closed): the signal to reconnect and repair. */
  [Symbol.asyncIterator](): AsyncIterator<ContainerEvent>;
  close(): void;
}

export interface LogChunk {
  stream: "stdout" | "stderr";
  data: string;
}

export interface StatsSample {
  /** CPU usage as a percentage of one core × cores, as `docker stats` shows it. */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

export interface DockerPort {
  createContainer(req: CreateContainerRequest, o?: CallOptions): Promise<{ id: string }>;
  /** Starting a running container is not an error. */
  startContainer(id: string, o?: CallOptions): Promise<void>;
  /** SIGTERM (or the image's STOPSIGNAL), then SIGKILL after `timeoutSeconds`. Stopping a stopped container is not an error. */
  stopContainer(id: string, timeoutSeconds: number, o?: CallOptions): Promise<void>;
  killContainer(id: string, signal?: string, o?: CallOptions): Promise<void>;
  /** Removes the container and its anonymous volumes. Removing a missing container is not an error. */
  removeContainer(id: string, o?: CallOptions & { force?: boolean }): Promise<void>;
  inspectContainer(id: string, o?: CallOptions): Promise<ContainerInfo>;
  /** All containers (running or not) carrying every given label (`key=value`, or `key` alone). */
  listContainers(labels: string[], o?: CallOptions): Promise<ContainerSummary[]>;
  /** Container events for containers carrying every given label, from `since` (epoch ms) on. */
  containerEvents(labels: string[], o?: CallOptions & { since?: number }): Promise<EventStream>;
  /** The events Docker logged for one container between `since` and `until` (epoch ms, not after now): its recent history, at once. */
  containerEventsBetween(id: string, o: CallOptions & { since: number; until: number }): Promise<ContainerEvent[]>;
  inspectImage(ref: string, o?: CallOptions): Promise<ImageInfo>;
  /** Pulls and waits for the pull to finish; the engine's error text is the DockerError message. */
  pullImage(ref: string, o?: CallOptions & { auth?: RegistryCredentials }): Promise<void>;
  info(o?: CallOptions): Promise<EngineInfo>;
  version(o?: CallOptions): Promise<EngineVersion>;
  /** Demultiplexed output; with `follow`, `onChunk` is called until the container stops or the signal aborts. */
  logs(
    id: string,
    opts: { tail?: number; follow?: boolean; since?: number },
    onChunk: (chunk: LogChunk) => void,
    o?: CallOptions,
  ): Promise<void>;
  /** One stats sample (not streamed). */
  stats(id: string, o?: CallOptions): Promise<StatsSample>;
  createNetwork(name: string, labels: Record<string, string>, o?: CallOptions): Promise<{ id: string }>;
  removeNetwork(name: string, o?: CallOptions): Promise<void>;
  createVolume(
    req: { name: string; driver?: string; driverOpts?: Record<string, string>; labels: Record<string, string> },
    o?: CallOptions,
  ): Promise<void>;
  inspectVolume(name: string, o?: CallOptions): Promise<{ name: string; labels: Record<string, string> }>;
  removeVolume(name: string, o?: CallOptions): Promise<void>;
}
