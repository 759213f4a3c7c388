import type { ContainerObserved, Observation } from "../../events/agent.ts";
import { contentHash } from "../../events/envelope.ts";
import type { NetworkBinding } from "../../events/shapes.ts";
import type { ContainerDefinition } from "../../events/taskdef.shapes.ts";
import type { ContainerInfo } from "./docker/port.ts";

/**
 * Pure mapping from what Docker reports about a container to ECS's container view. Docker's
 * created → PENDING; running/paused/restarting → RUNNING; exited/dead/removing → STOPPED.
 */

export const OOM_REASON = "OutOfMemoryError: Container killed due to memory usage";

export interface ObserveContext {
  instanceId: string;
  taskArn: string;
  containerName: string;
  at: number;
  /** The image's RepoDigests[0] when present, else its id. */
  imageDigest?: string;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  /** The definition: host-mode bindings come from its port mappings (Docker reports none). */
  definition?: ContainerDefinition;
  /**
   * Docker sent an `oom` event for this container. Its State.OOMKilled is not enough: Docker
   * 20.10 on cgroup v2 clears it when the exit is processed after the OOM event, so a container
   * the kernel killed for memory can read as a plain exit 137.
   */
  oomEvent?: boolean;
}

export function observeContainer(info: ContainerInfo, ctx: ObserveContext): ContainerObserved {
  const s = info.state;
  let status: ContainerObserved["status"];
  let reason: string | undefined;
  switch (s.status) {
    case "running":
    case "paused":
    case "restarting":
      status = "RUNNING";
      break;
    case "created":
      // A start that failed leaves the container "created" with the engine's error text.
      status = s.error ? "STOPPED" : "PENDING";
      if (s.error) reason = `CannotStartContainerError: ${s.error}`;
      break;
    default:
      status = "STOPPED";
      if (s.oomKilled || (ctx.oomEvent && s.exitCode === 137)) reason = OOM_REASON;
      else if (s.error)
        reason = `${s.startedAt === undefined ? "CannotStartContainerError" : "ContainerError"}: ${s.error}`;
  }
  const obs: ContainerObserved = {
    type: "ContainerObserved",
    at: ctx.at,
    instanceId: ctx.instanceId,
    taskArn: ctx.taskArn,
    containerName: ctx.containerName,
    status,
    runtimeId: info.id,
  };
  if (ctx.imageDigest) obs.imageDigest = ctx.imageDigest;
  if (status === "STOPPED" && s.status !== "created" && s.startedAt !== undefined) obs.exitCode = s.exitCode;
  if (reason) obs.reason = reason;
  if (status === "RUNNING") {
    const bindings = networkBindings(info, ctx.definition);
    if (bindings.length) obs.networkBindings = bindings;
  }
  if (s.health && s.health !== "none") {
    obs.healthStatus = s.health === "healthy" ? "HEALTHY" : s.health === "unhealthy" ? "UNHEALTHY" : "UNKNOWN";
  }
  if (ctx.pullStartedAt !== undefined) obs.pullStartedAt = ctx.pullStartedAt;
  if (ctx.pullStoppedAt !== undefined) obs.pullStoppedAt = ctx.pullStoppedAt;
  return obs;
}

/** Bridge: Docker's published ports. Host: the definition's container ports, bound as they are. */
export function networkBindings(info: ContainerInfo, def?: ContainerDefinition): NetworkBinding[] {
  const out: NetworkBinding[] = [];
  if (info.networkMode === "host") {
    for (const p of def?.portMappings ?? []) {
      if (p.containerPort === undefined) continue;
      out.push({
        bindIP: "0.0.0.0",
        containerPort: p.containerPort,
        hostPort: p.containerPort,
        protocol: p.protocol ?? "tcp",
      });
    }
    return out;
  }
  for (const [key, bindings] of Object.entries(info.ports)) {
    const [port, proto] = key.split("/");
    for (const b of bindings ?? []) {
      // Docker ≥20.10 publishes each port on 0.0.0.0 and [::]; ECS lists the IPv4 binding.
      if (b.hostIp === "::") continue;
      out.push({
        bindIP: b.hostIp || "0.0.0.0",
        containerPort: Number(port),
        hostPort: Number(b.hostPort),
        protocol: proto === "udp" ? "udp" : "tcp",
      });
    }
  }
  return out;
}

/**
 * Deterministic message id of an observation: the same fact published twice (a retry, a
 * redelivered directive, a repair after an event-stream break) is stored once by JetStream. A
 * container's reason is part of the fact (a kill reported again once Docker's late `oom` event
 * says why), as a hash: a reason can be long, and a header holds no line break.
 */
export function observationMsgId(o: Observation): string {
  switch (o.type) {
    case "ContainerObserved": {
      const who = o.runtimeId ?? `${o.taskArn}/${o.containerName}`;
      const why = o.reason === undefined ? "" : `:${contentHash(o.reason)}`;
      return `${who}:${o.status}:${o.exitCode ?? ""}:${o.healthStatus ?? ""}${why}`;
    }
    case "TaskStoppingObserved":
      return `${o.taskArn}:stopping`;
    case "TaskAttachmentObserved":
      return `${o.taskArn}:${o.attachmentId}:${o.status}`;
    case "TaskStatsObserved":
      return `${o.taskArn}:stats:${o.at}`;
    default: {
      const never: never = o;
      throw new Error(`unknown observation ${JSON.stringify(never)}`);
    }
  }
}
