import type { Readable } from "node:stream";
import Docker from "dockerode";
import {
  type CallOptions,
  type ContainerEvent,
  type ContainerInfo,
  type ContainerRunState,
  DockerError,
  type DockerPort,
  type EngineInfo,
  type EngineVersion,
  type EventStream,
  type LogChunk,
  type StatsSample,
} from "./port.ts";

/** Default deadline of one engine call; pulls and stops get their own (see below). */
const DEFAULT_TIMEOUT_MS = 30_000;
/** A pull of a large image over a slow link takes minutes; ECS's agent allows far longer (ECS_IMAGE_PULL_TIMEOUT). */
const PULL_TIMEOUT_MS = 10 * 60_000;

export interface DockerodeOptions {
  socketPath?: string;
  /** Default per-call deadline in ms. */
  timeoutMs?: number;
}

/** The DockerPort over dockerode. The only module of the agent that knows dockerode. */
export function dockerodePort(opts: DockerodeOptions = {}): DockerPort {
  const docker = new Docker({ socketPath: opts.socketPath ?? "/var/run/docker.sock" });
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signalOf = (o: CallOptions | undefined, fallbackMs = defaultTimeout): AbortSignal => {
    const timeout = AbortSignal.timeout(o?.timeoutMs ?? fallbackMs);
    return o?.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classify(what, err);
    }
  };

  return {
    createContainer: (req, o) =>
      call("create container", async () => {
        const c = await docker.createContainer({ ...req, abortSignal: signalOf(o) } as Docker.ContainerCreateOptions);
        return { id: c.id };
      }),

    startContainer: (id, o) =>
      call("start container", async () => {
        await ignoreStatus(304, () => docker.getContainer(id).start({ abortSignal: signalOf(o) }));
      }),

    stopContainer: (id, timeoutSeconds, o) =>
      call("stop container", async () => {
        // The engine answers only once the container is gone, so the deadline covers the grace period.
        const signal = signalOf(o, timeoutSeconds * 1000 + defaultTimeout);
        await ignoreStatus(304, () => docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal: signal }));
      }),

    killContainer: (id, signal, o) =>
      call("kill container", async () => {
        await ignoreStatus(409, () =>
          docker.getContainer(id).kill({ signal: signal ?? "SIGKILL", abortSignal: signalOf(o) }),
        );
      }),

    removeContainer: (id, o) =>
      call("remove container", async () => {
        await ignoreStatus(404, () =>
          docker.getContainer(id).remove({ v: true, force: o?.force ?? false, abortSignal: signalOf(o) }),
        );
      }),

    inspectContainer: (id, o) =>
      call("inspect container", async () =>
        toContainerInfo(await docker.getContainer(id).inspect({ abortSignal: signalOf(o) })),
      ),

    listContainers: (labels, o) =>
      call("list containers", async () => {
        const rows = await docker.listContainers({ all: true, filters: { label: labels }, abortSignal: signalOf(o) });
        return rows.map((r) => ({
          id: r.Id,
          name: (r.Names[0] ?? "").replace(/^\//, ""),
          labels: r.Labels ?? {},
          state: r.State as ContainerRunState,
        }));
      }),

    containerEvents: (labels, o) =>
      call("watch events", async () => {
        const controller = new AbortController();
        const signal = o?.signal ? AbortSignal.any([o.signal, controller.signal]) : controller.signal;
        const stream = (await docker.getEvents({
          filters: { type: ["container"], label: labels },
          ...(o?.since ? { since: Math.floor(o.since / 1000) } : {}),
          abortSignal: signal,
        } as Docker.GetEventsOptions)) as unknown as Readable;
        return eventStream(stream, () => controller.abort());
      }),

    containerEventsBetween: (id, o) =>
      call("read events", async () => {
        // Docker takes fractional seconds; an `until` in the past makes it answer from its log and end.
        const stream = (await docker.getEvents({
          filters: { type: ["container"], container: [id] },
          since: (o.since / 1000).toFixed(3),
          until: (o.until / 1000).toFixed(3),
          abortSignal: signalOf(o),
        } as unknown as Docker.GetEventsOptions)) as unknown as Readable;
        const out: ContainerEvent[] = [];
        for await (const e of eventStream(stream, () => stream.destroy())) out.push(e);
        return out;
      }),

    inspectImage: (ref, o) =>
      call("inspect image", async () => {
        const i = await docker.getImage(ref).inspect({ abortSignal: signalOf(o) } as object);
        return { id: i.Id, repoDigests: i.RepoDigests ?? [], repoTags: i.RepoTags ?? [] };
      }),

    pullImage: (ref, o) =>
      call("pull image", async () => {
        const stream = (await docker.pull(withTag(ref), {
          abortSignal: signalOf(o, PULL_TIMEOUT_MS),
          ...(o?.auth ? { authconfig: o.auth } : {}),
        })) as Readable;
        await new Promise<void>((resolve, reject) => {
          docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
        });
      }),

    info: (o) =>
      call("info", async () => {
        const i = (await (docker.info as (o: object) => Promise<unknown>).call(docker, {
          abortSignal: signalOf(o),
        })) as RawInfo;
        return {
          ncpu: i.NCPU,
          memTotalBytes: i.MemTotal,
          architecture: i.Architecture,
          osType: i.OSType,
          logDrivers: i.Plugins?.Log ?? [],
          cgroupDriver: i.CgroupDriver,
          cgroupVersion: String(i.CgroupVersion ?? "1"),
          name: i.Name,
        } satisfies EngineInfo;
      }),

    version: (o) =>
      call("version", async () => {
        const v = (await (docker.version as (o: object) => Promise<unknown>).call(docker, {
          abortSignal: signalOf(o),
        })) as RawVersion;
        return {
          version: v.Version,
          apiVersion: v.ApiVersion,
          minApiVersion: v.MinAPIVersion ?? "1.12",
        } satisfies EngineVersion;
      }),

    logs: (id, opts, onChunk, o) =>
      call("logs", async () => {
        const container = docker.getContainer(id);
        const tty = (await container.inspect({ abortSignal: signalOf(o) })).Config.Tty;
        const base = {
          stdout: true,
          stderr: true,
          timestamps: false,
          ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
          ...(opts.since !== undefined ? { since: Math.floor(opts.since / 1000) } : {}),
        };
        const demux = new Demuxer(tty, onChunk);
        if (!opts.follow) {
          const buf = (await container.logs({ ...base, follow: false, abortSignal: signalOf(o) })) as Buffer;
          demux.push(buf);
          return;
        }
        const stream = (await container.logs({
          ...base,
          follow: true,
          ...(o?.signal ? { abortSignal: o.signal } : {}),
        })) as unknown as Readable;
        try {
          for await (const chunk of stream) demux.push(chunk as Buffer);
        } catch (err) {
          if (!o?.signal?.aborted) throw err;
        }
      }),

    stats: (id, o) =>
      call("stats", async () => {
        const container = docker.getContainer(id);
        const s = (await (container.stats as (o: object) => Promise<unknown>).call(container, {
          stream: false,
          abortSignal: signalOf(o),
        })) as Docker.ContainerStats;
        return toStats(s);
      }),

    createNetwork: (name, labels, o) =>
      call("create network", async () => {
        const n = await docker.createNetwork({
          Name: name,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: labels,
          abortSignal: signalOf(o),
        } as Docker.NetworkCreateOptions);
        return { id: n.id };
      }),

    removeNetwork: (name, o) =>
      call("remove network", async () => {
        await ignoreStatus(404, () => docker.getNetwork(name).remove({ abortSignal: signalOf(o) }));
      }),

    createVolume: (req, o) =>
      call("create volume", async () => {
        await docker.createVolume({
          Name: req.name,
          Driver: req.driver ?? "local",
          DriverOpts: req.driverOpts ?? {},
          Labels: req.labels,
          abortSignal: signalOf(o),
        } as Docker.VolumeCreateOptions);
      }),

    inspectVolume: (name, o) =>
      call("inspect volume", async () => {
        const v = await docker.getVolume(name).inspect({ abortSignal: signalOf(o) });
        return { name: v.Name, labels: v.Labels ?? {} };
      }),

    removeVolume: (name, o) =>
      call("remove volume", async () => {
        await ignoreStatus(404, () => docker.getVolume(name).remove({ abortSignal: signalOf(o) }));
      }),
  };
}

interface RawInfo {
  NCPU: number;
  MemTotal: number;
  Architecture: string;
  OSType: string;
  Plugins?: { Log?: string[] };
  CgroupDriver: string;
  CgroupVersion?: string;
  Name: string;
}
interface RawVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
}

/** `busybox` would pull every tag of the repository; Docker's CLI means `busybox:latest`. */
function withTag(ref: string): string {
  if (ref.includes("@")) return ref;
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? ref : `${ref}:latest`;
}

async function ignoreStatus(status: number, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === status) return;
    throw err;
  }
}

const RETRIABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** Maps a dockerode / docker-modem / abort failure onto the port's three kinds. */
export function classify(what: string, err: unknown): DockerError {
  if (err instanceof DockerError) return err;
  const e = err as {
    statusCode?: number;
    json?: { message?: string } | null;
    message?: string;
    code?: string;
    name?: string;
  };
  // docker-modem prefixes the engine's text with "(HTTP code 500) server error - "; keep the engine's words.
  const text =
    (typeof e.json?.message === "string" ? e.json.message : undefined) ??
    (e.message ?? String(err)).replace(/^\(HTTP code \d+\)[^-]*- /, "").trim();
  if (e.name === "AbortError" || e.name === "TimeoutError") {
    return new DockerError("retriable", `${what}: timed out or aborted`, undefined, { cause: err });
  }
  if (e.statusCode === undefined) {
    // No HTTP response: socket errors are retriable; an error event in a pull stream is the engine's verdict.
    const retriable = e.code !== undefined && RETRIABLE_CODES.has(e.code);
    return new DockerError(retriable ? "retriable" : "terminal", text, undefined, { cause: err });
  }
  if (e.statusCode === 404) return new DockerError("not-found", text, 404, { cause: err });
  // 502/503/504 are a proxy or a busy daemon; everything else is the engine refusing this request.
  const retriable = e.statusCode === 502 || e.statusCode === 503 || e.statusCode === 504;
  return new DockerError(retriable ? "retriable" : "terminal", text, e.statusCode, { cause: err });
}

const ZERO_TIME = "0001-01-01T00:00:00Z";
const epoch = (iso: string | undefined) => (iso && iso !== ZERO_TIME ? Date.parse(iso) : undefined);

function toContainerInfo(i: Docker.ContainerInspectInfo): ContainerInfo {
  const networks: ContainerInfo["networks"] = {};
  for (const [name, n] of Object.entries(i.NetworkSettings?.Networks ?? {})) {
    networks[name] = { ipAddress: n.IPAddress, macAddress: n.MacAddress };
  }
  const ports: ContainerInfo["ports"] = {};
  for (const [key, bindings] of Object.entries(i.NetworkSettings?.Ports ?? {})) {
    ports[key] = bindings ? bindings.map((b) => ({ hostIp: b.HostIp, hostPort: b.HostPort })) : null;
  }
  const health = (i.State as { Health?: { Status?: string } }).Health?.Status;
  return {
    id: i.Id,
    name: i.Name.replace(/^\//, ""),
    image: i.Config.Image,
    imageId: i.Image,
    labels: i.Config.Labels ?? {},
    state: {
      status: i.State.Status as ContainerRunState,
      running: i.State.Running,
      exitCode: i.State.ExitCode,
      oomKilled: i.State.OOMKilled,
      error: i.State.Error ?? "",
      startedAt: epoch(i.State.StartedAt),
      finishedAt: epoch(i.State.FinishedAt),
      ...(health ? { health: health as ContainerInfo["state"]["health"] } : {}),
    },
    networkMode: i.HostConfig.NetworkMode ?? "default",
    ports,
    networks,
    ...((i.Config as { StopTimeout?: number }).StopTimeout !== undefined
      ? { stopTimeout: (i.Config as { StopTimeout?: number }).StopTimeout }
      : {}),
  };
}

function toStats(s: Docker.ContainerStats): StatsSample {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus ?? s.cpu_stats.cpu_usage.percpu_usage?.length ?? 1;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  // `docker stats` subtracts the page cache (cgroup v1: total_inactive_file) from usage.
  const stats = (s.memory_stats.stats ?? {}) as Record<string, number | undefined>;
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  return {
    cpuPercent,
    memoryBytes: Math.max(0, (s.memory_stats.usage ?? 0) - cache),
    memoryLimitBytes: s.memory_stats.limit ?? 0,
  };
}

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream type, 3 zero bytes,
 * big-endian length) into stdout/stderr chunks. A TTY container's output is not framed.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(
    private readonly tty: boolean,
    private readonly onChunk: (c: LogChunk) => void,
  ) {}

  push(data: Buffer): void {
    if (this.tty) {
      if (data.length > 0) this.onChunk({ stream: "stdout", data: data.toString("utf8") });
      return;
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0] === 2 ? "stderr" : "stdout";
      this.onChunk({ stream: kind, data: this.pending.subarray(8, 8 + size).toString("utf8") });
      this.pending = this.pending.subarray(8 + size);
    }
  }
}

function eventStream(stream: Readable, abort: () => void): EventStream {
  return {
    close: () => {
      abort();
      stream.destroy();
    },
    async *[Symbol.asyncIterator]() {
      let buffered = "";
      try {
        for await (const chunk of stream) {
          buffered += (chunk as Buffer).toString("utf8");
          let nl = buffered.indexOf("\n");
          while (nl >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            nl = buffered.indexOf("\n");
            if (!line) continue;
            const ev = parseEvent(line);
            if (ev) yield ev;
          }
        }
      } catch {
        // A broken stream ends the iteration; the caller reconnects and repairs.
      }
    },
  };
}

function parseEvent(line: string): ContainerEvent | undefined {
  try {
    const e = JSON.parse(line) as {
      Action?: string;
      status?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
      timeNano?: number;
      time?: number;
    };
    const id = e.Actor?.ID ?? e.id;
    const action = e.Action ?? e.status;
    if (!id || !action) return undefined;
    const at = e.timeNano ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
    return { action, id, labels: e.Actor?.Attributes ?? {}, at };
  } catch {
    return undefined;
  }
}
