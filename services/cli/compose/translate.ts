import type { ContainerDefinition, NetworkMode, RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import { ServiceTranslation, unsupported } from "./container.ts";
import { type Env, interpolate } from "./interpolate.ts";
import { ComposeError } from "./values.ts";
import { VolumeSet, type Warn } from "./volumes.ts";

export { DEFAULT_MEMORY_RESERVATION } from "./container.ts";

/**
 * A Docker Compose file → one ECS task definition and one service, the way ECS CLI's compose
 * support maps it: the project is the task definition family and the service name; every compose
 * service is a container of that task (so they are placed together, reach each other through
 * `links` on the bridge network, and scale together). Pure: the caller reads the file and the
 * environment and prints the warnings.
 *
 * Every key Berth cannot honour is named in one warning and otherwise ignored; a file that cannot
 * run at all (no services, a service without an image, a bad value) is a ComposeError.
 */

export interface ComposeInput {
  /** The parsed YAML document. */
  document: unknown;
  project: string;
  /** Folder of the compose file: relative bind-mount sources resolve against it. */
  baseDir: string;
  /** Variables for `${VAR}` substitution and `environment: [NAME]` pass-through. */
  env: Env;
}

export interface ComposeService {
  serviceName: string;
  /** Absent for DAEMON (deploy.mode: global): one task per instance. */
  desiredCount?: number;
  schedulingStrategy: "REPLICA" | "DAEMON";
  /**
   * Set when a container publishes a fixed host port: an old and a new task cannot hold the same
   * port on one host, so a new revision replaces tasks stop-first (minimum 0 %, maximum 100 %),
   * as `docker compose up` recreates containers.
   */
  deploymentConfiguration?: { minimumHealthyPercent: number; maximumPercent: number };
}

export interface Translation {
  taskDefinition: RegisterTaskDefinitionCommandInput & { family: string; containerDefinitions: ContainerDefinition[] };
  service: ComposeService;
  warnings: string[];
}


const TOP_LEVEL = new Set(["services", "volumes", "name", "version"]);

export function translate(input: ComposeInput): Translation {
  const warnings: string[] = [];
  const warn: Warn = (path, why) => warnings.push(`${path} ${why}`);
  const unset = new Set<string>();
  const doc = interpolate(input.document, input.env, (name) => unset.add(name));
  for (const name of unset) warnings.push(`variable ${name} is not set; substituted with an empty string`);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new ComposeError("the compose file is not a YAML mapping");
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) if (!TOP_LEVEL.has(key) && !key.startsWith("x-")) warn(key, unsupported(key));
  const services = top.services;
  if (services === null || typeof services !== "object" || Array.isArray(services) || Object.keys(services).length === 0)
    throw new ComposeError("services: the file defines no services");
  const declared = top.volumes ?? {};
  if (typeof declared !== "object" || Array.isArray(declared)) throw new ComposeError("volumes: expected a map of volume names");
  const volumes = new VolumeSet(input.project, declared as Record<string, unknown>, input.baseDir, input.env.HOME, warn);

  const names = Object.keys(services);
  const containers: ContainerDefinition[] = [];
  const replicas: number[] = [];
  const networkModes = new Set<string>();
  let daemon = false;
  for (const name of names) {
    const svc = (services as Record<string, unknown>)[name];
    const path = `services.${name}`;
    if (svc === null || typeof svc !== "object" || Array.isArray(svc)) throw new ComposeError(`${path}: expected a mapping`);
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw new ComposeError(`${path}: ECS container names take letters, digits, '-' and '_' only`);
    const s = new ServiceTranslation(name, svc as Record<string, unknown>, path, names, volumes, input.env, warn);
    containers.push(s.container);
    if (s.replicas !== undefined) replicas.push(s.replicas);
    networkModes.add(s.networkMode ?? "bridge");
    daemon ||= s.global;
  }

  // ECS refuses a SUCCESS dependency on an essential container: a one-shot job must be allowed to exit.
  for (const c of containers) {
    for (const d of c.dependsOn ?? []) {
      const target = containers.find((x) => x.name === d.containerName);
      if (d.condition === "SUCCESS" && target) target.essential = false;
    }
  }
  if (networkModes.size > 1) throw new ComposeError(`network_mode differs between services (${[...networkModes].join(", ")}); one task has one network mode`);
  const networkMode = ([...networkModes][0] ?? "bridge") as NetworkMode;
  const desired = replicas.length ? Math.max(...replicas) : 1;
  if (new Set(replicas).size > 1) warnings.push(`deploy.replicas differs between services; the task runs them together, so the service runs ${desired} copies of all`);
  const vols = volumes.list();
  const fixedPorts = containers.some((c) => c.portMappings?.some((p) => p.hostPort !== 0));
  return {
    taskDefinition: {
      family: input.project,
      networkMode,
      containerDefinitions: containers,
      ...(vols.length ? { volumes: vols } : {}),
    },
    service: {
      serviceName: input.project,
      ...(daemon ? { schedulingStrategy: "DAEMON" } : { desiredCount: desired, schedulingStrategy: "REPLICA" }),
      ...(fixedPorts && !daemon ? { deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 } } : {}),
    },
    warnings,
  };
}

/**
 * The project name, as compose chooses it: --project, then $COMPOSE_PROJECT_NAME, then the file's
 * top-level `name:`, then the name of the file's folder; lower case letters, digits, '-' and
 * '_' (also what ECS allows in a family and a service name).
 */
export function projectName(o: { flag?: string; env: Env; document?: unknown; dirName: string }): string {
  const fromDoc =
    o.document && typeof o.document === "object" && !Array.isArray(o.document) ? (o.document as Record<string, unknown>).name : undefined;
  const raw = o.flag ?? o.env.COMPOSE_PROJECT_NAME ?? (typeof fromDoc === "string" ? fromDoc : undefined) ?? o.dirName;
  const name = raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[_-]+/, "");
  if (!name) throw new ComposeError(`project name ${JSON.stringify(raw)} has no letters or digits; name the project with --project`);
  return name;
}
