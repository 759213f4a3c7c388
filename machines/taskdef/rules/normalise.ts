import type { NetworkMode } from "../../../events/shapes.ts";
import type { ContainerDefinition, PortMapping, TaskDefinitionSpec } from "../../../events/taskdef.shapes.ts";
import { requiredAttributes } from "./attributes.ts";
import { compatibilitiesOf } from "./compatibility.ts";
import type { ContainerInput, TaskView } from "./request.ts";

/**
 * The definition as ECS stores and echoes it, from a request that passed every rule. Defaults
 * ECS fills in (AWS CLI register/describe examples, and the API fields Terraform's diff
 * suppression knows ECS adds):
 *  - containers: essential true, cpu 0, empty portMappings/environment/mountPoints/volumesFrom/
 *    systemControls; healthCheck interval 30, timeout 5, retries 3 (the documented defaults);
 *  - port mappings: protocol tcp; in awsvpc and host modes hostPort = containerPort when absent
 *    or 0. In bridge mode an absent hostPort stays absent (dynamic): no AWS source shows ECS
 *    echoing 0 for it;
 *  - task: volumes and placementConstraints default to []; cpu and memory become integer strings
 *    (units / MiB); networkMode and requiresCompatibilities are echoed only when given.
 * Pure: does not modify its input.
 */

const HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3 } as const;

function normalisePort(p: PortMapping, mode: NetworkMode): PortMapping {
  const out: PortMapping = { ...p, protocol: p.protocol ?? "tcp" };
  const sharesPorts = mode === "awsvpc" || mode === "host";
  if (sharesPorts && p.containerPort !== undefined && !p.hostPort) out.hostPort = p.containerPort;
  return out;
}

function normaliseContainer(c: ContainerInput, mode: NetworkMode): ContainerDefinition {
  const { name, image, healthCheck, ...rest } = c;
  return {
    name: name ?? "",
    image: image ?? "",
    cpu: c.cpu ?? 0,
    ...rest,
    portMappings: (c.portMappings ?? []).map((p) => normalisePort(p, mode)),
    essential: c.essential ?? true,
    environment: c.environment ?? [],
    mountPoints: c.mountPoints ?? [],
    volumesFrom: c.volumesFrom ?? [],
    systemControls: c.systemControls ?? [],
    ...(healthCheck ? { healthCheck: { ...HEALTH_CHECK_DEFAULTS, ...healthCheck } } : {}),
  };
}

export function normalise(v: TaskView): TaskDefinitionSpec {
  const {
    tags: _tags,
    family,
    containerDefinitions: _containers,
    volumes,
    placementConstraints,
    cpu: _cpu,
    memory: _memory,
    ...rest
  } = v.req;
  const base: Omit<TaskDefinitionSpec, "compatibilities" | "requiresAttributes"> = {
    family: family ?? "",
    containerDefinitions: v.containers.map((c) => normaliseContainer(c, v.mode)),
    ...rest,
    volumes: volumes ?? [],
    placementConstraints: placementConstraints ?? [],
    ...(typeof v.cpu === "number" ? { cpu: String(v.cpu) } : {}),
    ...(typeof v.memory === "number" ? { memory: String(v.memory) } : {}),
  };
  return {
    ...base,
    compatibilities: compatibilitiesOf(v),
    requiresAttributes: requiredAttributes(base, v.mode),
  };
}
