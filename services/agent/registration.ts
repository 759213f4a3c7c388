import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { RegisterReply, type RegisterRequest } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import type { Attribute, Resource } from "../../events/shapes.ts";
import type { EngineInfo, EngineVersion } from "./docker/port.ts";
import { retry } from "./retry.ts";
import type { AgentStateStore, InstanceState } from "./state.ts";

/** Ports ECS's agent reserves on every instance: ssh, Docker's API (plain/TLS), ECS agent introspection. */
export const RESERVED_PORTS = [22, 2375, 2376, 51678, 51679];
/** Oldest Docker remote API version ECS's agent advertises a capability for. */
const MIN_ADVERTISED_API_MINOR = 17;
const CAP = "com.amazonaws.ecs.capability";
const MIB = 1024 * 1024;

export interface RegistrationInput {
  cluster: string;
  instanceId: string;
  info: EngineInfo;
  version: EngineVersion;
  availabilityZone?: string;
  attributes?: Record<string, string>;
  capacity?: ("EC2" | "FARGATE")[];
  allowPrivileged?: boolean;
  /** Capabilities this agent build implements beyond the base set (e.g. task-eni for awsvpc). */
  extraCapabilities?: string[];
}

export const agentVersion: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
})();

/** Pure: what the agent tells the control plane about its host. */
export function registerRequest(r: RegistrationInput): RegisterRequest {
  const totalResources: Resource[] = [
    { name: "CPU", type: "INTEGER", integerValue: 1024 * r.info.ncpu },
    { name: "MEMORY", type: "INTEGER", integerValue: Math.floor(r.info.memTotalBytes / MIB) },
    { name: "PORTS", type: "STRINGSET", stringSetValue: RESERVED_PORTS.map(String) },
    { name: "PORTS_UDP", type: "STRINGSET", stringSetValue: [] },
  ];
  const attrs: Attribute[] = [
    { name: "ecs.os-type", value: r.info.osType === "windows" ? "windows" : "linux" },
    { name: "ecs.os-family", value: "LINUX" },
    { name: "ecs.cpu-architecture", value: /^(aarch64|arm64)$/.test(r.info.architecture) ? "arm64" : "x86_64" },
  ];
  if (r.availabilityZone) attrs.push({ name: "ecs.availability-zone", value: r.availabilityZone });
  const apiMinor = Number(r.version.apiVersion.split(".")[1] ?? "0");
  for (let minor = MIN_ADVERTISED_API_MINOR; minor <= apiMinor; minor++) {
    attrs.push({ name: `${CAP}.docker-remote-api.1.${minor}` });
  }
  for (const driver of new Set([...r.info.logDrivers, "none"])) attrs.push({ name: `${CAP}.logging-driver.${driver}` });
  if (r.allowPrivileged) attrs.push({ name: `${CAP}.privileged-container` });
  for (const cap of [
    "ecs.capability.container-health-check",
    "ecs.capability.container-ordering",
    "ecs.capability.docker-plugin.local",
    "ecs.capability.task-cpu-mem-limit",
    "ecs.capability.task-eni",
    ...(r.extraCapabilities ?? []),
  ]) {
    attrs.push({ name: cap });
  }
  for (const [name, value] of Object.entries(r.attributes ?? {})) attrs.push({ name, value });
  return {
    cluster: r.cluster,
    instanceId: r.instanceId,
    hostname: hostname(),
    totalResources,
    attributes: attrs,
    versionInfo: { agentVersion, dockerVersion: `DockerVersion: ${r.version.version}` },
    capacity: r.capacity ?? ["EC2"],
  };
}

/**
 * Registers until the control plane answers. The instance id is minted by the agent before the
 * first attempt and kept in `dataDir`, so a retry after a lost reply, and every later restart,
 * registers the same instance instead of a new one.
 */
export async function register(
  nc: NatsConnection,
  store: AgentStateStore,
  region: string,
  input: Omit<RegistrationInput, "instanceId">,
  log: Logger,
  signal: AbortSignal,
): Promise<InstanceState & { containerInstanceArn: string }> {
  const saved = await store.loadInstance();
  const reuse = saved && saved.region === region && saved.cluster === input.cluster;
  if (saved && !reuse) log.warn({ saved }, "saved registration is for another cluster or region; registering anew");
  const instanceId = reuse ? saved.instanceId : randomUUID().replaceAll("-", "");
  if (!reuse) await store.saveInstance({ region, cluster: input.cluster, instanceId });
  const req = registerRequest({ ...input, instanceId });
  const reply = await retry(
    async () => {
      const m = await nc.request(subjects.register(region, instanceId), JSON.stringify(req), { timeout: 5_000 });
      const r = RegisterReply.parse(m.json());
      if (!r.ok) throw new RegistrationRefused(r.code, r.message, r.final ?? false);
      return r;
    },
    {
      signal,
      maxDelayMs: 15_000,
      retriable: (err) => !(err instanceof RegistrationRefused && err.final),
      // Refused (the cluster does not exist yet, most often): tried again, as it may be created.
      onError: (err, attempt) => {
        if (err instanceof RegistrationRefused)
          log.warn(
            { attempt, cluster: input.cluster, region, code: err.code, reason: err.message },
            err.code === "ClusterNotFoundException"
              ? `registration refused: no cluster ${input.cluster} in ${region} (create it: aws ecs create-cluster --cluster-name ${input.cluster}); retrying`
              : "registration refused; retrying",
          );
        else if (/permissions violation/i.test((err as Error).message))
          // A NATS user bound to another instance id (berth up, berth nats-auth): it stays refused
          // until the saved registration and the user agree again.
          log.error(
            { reason: (err as Error).message, attempt, instanceId, stateFile: store.instanceFile },
            `NATS does not let this agent's user speak for instance ${instanceId}: the user was made for another instance id. Run the agent with the data directory, name, cluster and region its login was written for (berth nats-auth's env file gives all but the directory); if this host's saved registration was removed to join as a new instance, its login must be made again too (berth nats-auth --agents NAME, then reload the NATS servers); retrying`,
          );
        else log.warn({ err, attempt }, "registration not answered; retrying");
      },
    },
  ).catch((err: unknown) => {
    if (!(err instanceof RegistrationRefused)) throw err;
    throw new Error(`${err.code}: ${err.message} ${rejoinAdvice(store)}`);
  });
  const state = {
    region,
    cluster: input.cluster,
    instanceId: reply.instanceId,
    containerInstanceArn: reply.containerInstanceArn,
  };
  await store.saveInstance(state);
  return state;
}

/** How a host whose container instance was deregistered joins its cluster again. */
export function rejoinAdvice(store: Pick<AgentStateStore, "instanceFile">): string {
  return `To register this host as a new container instance, remove ${store.instanceFile} and start the agent again; an agent with a NATS user of its own needs a new login for it too (berth nats-auth, or berth up, which makes one on its next start).`;
}

/** The control plane answered the registration with a refusal (an ECS error code and message). */
class RegistrationRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Asking again cannot succeed. */
    readonly final: boolean,
  ) {
    super(message);
  }
}
