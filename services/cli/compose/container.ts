import type { ContainerDefinition, HealthCheck, KeyValuePair } from "@aws-sdk/client-ecs";
import type { Env } from "./interpolate.ts";
import { ComposeError, commandWords, mebibytes, pairs, portMappings, scalar, seconds, stringList, wholeSeconds } from "./values.ts";
import type { VolumeSet, Warn } from "./volumes.ts";

/**
 * Without any memory setting a container gets this soft reservation (MiB): ECS needs memory or
 * memoryReservation on every container, ECS CLI's default is 512, and a soft reservation caps
 * nothing — as compose, which sets no limit.
 */
export const DEFAULT_MEMORY_RESERVATION = 512;

/** Compose's reasons for the keys people ask about most; every other unsupported key gets the generic one. */
const WHY: Record<string, string> = {
  build: "is not supported: Berth runs images; build and tag the image, then name it under image:",
  restart: "is not supported: ECS services replace stopped tasks themselves",
  container_name: "is not supported: ECS names containers after the task",
  networks: "is not supported: the containers of the task share its bridge network (use links)",
  env_file: "is not supported: put the variables under environment:",
  secrets: "is not supported",
  configs: "is not supported",
  profiles: "is not supported: every service is part of the task",
  expose: "is not supported: containers of the task reach each other's ports through links",
};
export const unsupported = (key: string) => WHY[key] ?? "is not supported — ignored";

/** One compose service → one container definition. */
export class ServiceTranslation {
  readonly container: ContainerDefinition;
  replicas: number | undefined;
  networkMode: string | undefined;
  global = false;

  constructor(
    private readonly name: string,
    svc: Record<string, unknown>,
    path: string,
    private readonly serviceNames: string[],
    private readonly volumes: VolumeSet,
    private readonly env: Env,
    private readonly warn: Warn,
  ) {
    if (typeof svc.image !== "string" || svc.image === "") {
      throw new ComposeError(`${path}.image is required: Berth runs images${svc.build !== undefined ? " (build: is not supported; build and tag the image first)" : ""}`);
    }
    this.container = { name, image: svc.image, essential: true };
    for (const [key, value] of Object.entries(svc)) {
      if (key === "image" || key.startsWith("x-") || value === null || value === undefined) continue;
      this.apply(key, value, `${path}.${key}`);
    }
    const c = this.container;
    if (c.memory === undefined && c.memoryReservation === undefined) c.memoryReservation = DEFAULT_MEMORY_RESERVATION;
  }

  private get linux() {
    this.container.linuxParameters ??= {};
    return this.container.linuxParameters;
  }

  private apply(key: string, v: unknown, path: string): void {
    const c = this.container;
    const str = (x: unknown) => {
      if (!scalar(x)) throw new ComposeError(`${path}: expected a string`);
      return String(x);
    };
    const bool = (x: unknown) => {
      if (typeof x !== "boolean") throw new ComposeError(`${path}: expected true or false`);
      return x;
    };
    switch (key) {
      case "command":
        c.command = commandWords(v, path);
        return;
      case "entrypoint":
        c.entryPoint = commandWords(v, path);
        return;
      case "environment":
        c.environment = this.environment(v, path);
        return;
      case "ports":
        if (!Array.isArray(v)) throw new ComposeError(`${path}: expected a list`);
        c.portMappings = v.flatMap((p, i) => portMappings(p, `${path}[${i}]`, this.warn));
        return;
      case "mem_limit":
        c.memory = mebibytes(v, path);
        return;
      case "mem_reservation":
        c.memoryReservation = mebibytes(v, path);
        return;
      case "cpus":
        c.cpu = cpuUnits(v, path);
        return;
      case "cpu_shares":
        c.cpu = Number(str(v));
        return;
      case "deploy":
        this.deploy(v, path);
        return;
      case "scale":
        this.replicas = Number(str(v));
        return;
      case "healthcheck":
        c.healthCheck = this.healthCheck(v, path);
        if (!c.healthCheck) delete c.healthCheck;
        return;
      case "depends_on":
        c.dependsOn = this.dependsOn(v, path);
        return;
      case "working_dir":
        c.workingDirectory = str(v);
        return;
      case "user":
        c.user = str(v);
        return;
      case "hostname":
        c.hostname = str(v);
        return;
      case "labels":
        c.dockerLabels = Object.fromEntries(pairs(v, path).map(([k, val]) => [k, val ?? ""]));
        return;
      case "volumes":
        if (!Array.isArray(v)) throw new ComposeError(`${path}: expected a list`);
        c.mountPoints = v.flatMap((m, i) => this.volumes.mount(this.name, i, m, `${path}[${i}]`) ?? []);
        return;
      case "links":
        c.links = stringList(v, path);
        return;
      case "privileged":
        c.privileged = bool(v);
        return;
      case "read_only":
        c.readonlyRootFilesystem = bool(v);
        return;
      case "stop_grace_period":
        c.stopTimeout = wholeSeconds(seconds(v, path));
        return;
      case "extra_hosts":
        c.extraHosts = pairs(v, path, Array.isArray(v) && v.some((h) => String(h).includes("=")) ? "=" : ":").map(([hostname, ipAddress]) => {
          if (ipAddress === undefined) throw new ComposeError(`${path}: ${hostname} has no address (HOST:IP)`);
          return { hostname, ipAddress };
        });
        return;
      case "dns":
        c.dnsServers = stringList(v, path);
        return;
      case "dns_search":
        c.dnsSearchDomains = stringList(v, path);
        return;
      case "tty":
        c.pseudoTerminal = bool(v);
        return;
      case "stdin_open":
        c.interactive = bool(v);
        return;
      case "init":
        this.linux.initProcessEnabled = bool(v);
        return;
      case "cap_add":
        this.linux.capabilities = { ...this.linux.capabilities, add: stringList(v, path) };
        return;
      case "cap_drop":
        this.linux.capabilities = { ...this.linux.capabilities, drop: stringList(v, path) };
        return;
      case "shm_size":
        this.linux.sharedMemorySize = mebibytes(v, path);
        return;
      case "security_opt":
        c.dockerSecurityOptions = stringList(v, path);
        return;
      case "sysctls":
        c.systemControls = pairs(v, path).map(([namespace, value]) => ({ namespace, value: value ?? "" }));
        return;
      case "ulimits":
        c.ulimits = this.ulimits(v, path);
        return;
      case "logging":
        c.logConfiguration = this.logging(v, path);
        return;
      case "network_mode": {
        const mode = str(v);
        if (!["bridge", "host", "none"].includes(mode)) {
          this.warn(path, `${mode} is not supported (bridge, host or none) — bridge is used`);
          return;
        }
        this.networkMode = mode;
        return;
      }
      default:
        this.warn(path, unsupported(key));
    }
  }

  private environment(v: unknown, path: string): KeyValuePair[] {
    const out: KeyValuePair[] = [];
    for (const [name, value] of pairs(v, path)) {
      // `- NAME` (or `NAME:` with no value) passes the variable through from the environment.
      const resolved = value ?? this.env[name];
      if (resolved === undefined) this.warn(`${path}.${name}`, "has no value and is not set in the environment — left out");
      else out.push({ name, value: resolved });
    }
    return out;
  }

  private deploy(v: unknown, path: string): void {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ComposeError(`${path}: expected a mapping`);
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
      const p = `${path}.${key}`;
      if (key === "replicas") {
        if (!Number.isInteger(value) || (value as number) < 0) throw new ComposeError(`${p}: expected a whole number`);
        this.replicas = value as number;
      } else if (key === "mode") {
        if (value === "global") this.global = true;
        else if (value !== "replicated") throw new ComposeError(`${p}: expected replicated or global`);
      } else if (key === "resources") this.resources(value, p);
      else this.warn(p, "is not supported — ignored");
    }
  }

  private resources(v: unknown, path: string): void {
    const r = (v ?? {}) as Record<string, Record<string, unknown> | undefined>;
    for (const key of Object.keys(r)) if (key !== "limits" && key !== "reservations") this.warn(`${path}.${key}`, "is not supported — ignored");
    const c = this.container;
    for (const [key, value] of Object.entries(r.limits ?? {})) {
      if (key === "memory") c.memory = mebibytes(value, `${path}.limits.memory`);
      else if (key === "cpus") c.cpu = cpuUnits(value, `${path}.limits.cpus`);
      else this.warn(`${path}.limits.${key}`, "is not supported — ignored");
    }
    for (const [key, value] of Object.entries(r.reservations ?? {})) {
      if (key === "memory") c.memoryReservation = mebibytes(value, `${path}.reservations.memory`);
      else if (key === "cpus") c.cpu ??= cpuUnits(value, `${path}.reservations.cpus`);
      else this.warn(`${path}.reservations.${key}`, "is not supported — ignored");
    }
  }

  private healthCheck(v: unknown, path: string): HealthCheck | undefined {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ComposeError(`${path}: expected a mapping`);
    const h = v as Record<string, unknown>;
    for (const key of Object.keys(h))
      if (!["test", "interval", "timeout", "retries", "start_period", "disable"].includes(key)) this.warn(`${path}.${key}`, "is not supported — ignored");
    if (h.disable === true) return undefined;
    if (h.test === undefined) throw new ComposeError(`${path}.test is required`);
    const test = typeof h.test === "string" ? ["CMD-SHELL", h.test] : commandWords(h.test, `${path}.test`);
    if (test[0] === "NONE") return undefined;
    if (test[0] !== "CMD" && test[0] !== "CMD-SHELL") throw new ComposeError(`${path}.test: a list must start with CMD, CMD-SHELL or NONE`);
    const secs = (key: string) => (h[key] === undefined ? undefined : wholeSeconds(seconds(h[key], `${path}.${key}`)));
    const check: HealthCheck = { command: test };
    const interval = secs("interval");
    const timeout = secs("timeout");
    const startPeriod = secs("start_period");
    if (interval !== undefined) check.interval = interval;
    if (timeout !== undefined) check.timeout = timeout;
    if (startPeriod !== undefined) check.startPeriod = startPeriod;
    if (h.retries !== undefined) check.retries = Number(h.retries);
    return check;
  }

  private dependsOn(v: unknown, path: string): ContainerDefinition["dependsOn"] {
    const CONDITIONS: Record<string, "START" | "HEALTHY" | "SUCCESS"> = {
      service_started: "START",
      service_healthy: "HEALTHY",
      service_completed_successfully: "SUCCESS",
    };
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((n) => [String(n), undefined]) : Object.entries((v ?? {}) as object);
    return entries.map(([name, spec]) => {
      if (!this.serviceNames.includes(name)) throw new ComposeError(`${path}: ${name} is not a service of this file`);
      const o = (spec ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(o)) if (key !== "condition") this.warn(`${path}.${name}.${key}`, "is not supported — ignored");
      const condition = o.condition === undefined ? "START" : CONDITIONS[String(o.condition)];
      if (!condition) throw new ComposeError(`${path}.${name}.condition: expected ${Object.keys(CONDITIONS).join(", ")}`);
      return { containerName: name, condition };
    });
  }

  private ulimits(v: unknown, path: string): ContainerDefinition["ulimits"] {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ComposeError(`${path}: expected a mapping`);
    return Object.entries(v).map(([name, limit]) => {
      if (typeof limit === "number") return { name: name as never, softLimit: limit, hardLimit: limit };
      const l = (limit ?? {}) as { soft?: unknown; hard?: unknown };
      if (typeof l.soft !== "number" || typeof l.hard !== "number") throw new ComposeError(`${path}.${name}: expected a number or {soft, hard}`);
      return { name: name as never, softLimit: l.soft, hardLimit: l.hard };
    });
  }

  private logging(v: unknown, path: string): ContainerDefinition["logConfiguration"] {
    const l = (v ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(l)) if (key !== "driver" && key !== "options") this.warn(`${path}.${key}`, "is not supported — ignored");
    if (typeof l.driver !== "string") throw new ComposeError(`${path}.driver is required`);
    const options = l.options === undefined ? undefined : Object.fromEntries(pairs(l.options, `${path}.options`).map(([k, val]) => [k, val ?? ""]));
    return { logDriver: l.driver as never, ...(options ? { options } : {}) };
  }
}

/** `0.5` CPUs → 512 CPU units (ECS counts 1024 units per vCPU). */
function cpuUnits(v: unknown, path: string): number {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ComposeError(`${path}: ${JSON.stringify(v)} is not a number of CPUs`);
  return Math.round(n * 1024);
}
