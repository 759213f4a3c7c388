import type { PortMapping } from "../../../events/taskdef.shapes.ts";
import type { Rejection } from "../../decider.ts";
import { clientException, type ContainerInput, eachContainer, type TaskView } from "./request.ts";

/**
 * Port mappings and network-mode rules (API model PortMapping / ContainerDefinition; developer
 * guide networking pages). [seen] marks ECS's own words as real ECS returned them.
 *
 *   mode    | port mappings                         | links | hostname / extraHosts
 *   bridge  | hostPort static, or absent/0 = dynamic | yes   | yes
 *   host    | hostPort absent or = containerPort    | no    | yes
 *   awsvpc  | hostPort absent or = containerPort    | no    | no
 *   none    | none allowed                          | no    | yes
 */

const PORT_MAX = 65535;
/** Port-mapping names: Service Connect / VPC Lattice refer to them. */
const PORT_NAME = /^[a-z0-9_][a-z0-9_-]{0,63}$/;
const PORT_RANGE = /^(\d+)-(\d+)$/;
const MAX_PORT_RANGES = 100;

const nameOf = (c: ContainerInput) => c.name ?? "";

/** Each port mapping of each container, with its container, in order. */
function eachMapping(check: (p: PortMapping, c: ContainerInput, v: TaskView) => Rejection | undefined) {
  return eachContainer((c, v) => {
    for (const p of c.portMappings ?? []) {
      const r = check(p, c, v);
      if (r) return r;
    }
    return undefined;
  });
}

export const noPortMappingsWithNone = eachContainer((c, v) =>
  v.mode === "none" && (c.portMappings?.length ?? 0) > 0
    ? clientException("Port mappings are not supported when networkMode=none.")
    : undefined,
);

/** [seen] A mapping needs a container port in 1–65535, unless it maps a range instead. */
export const containerPortValid = eachMapping((p, c) => {
  if (p.containerPortRange !== undefined && p.containerPort === undefined) return undefined;
  const port = p.containerPort;
  return port !== undefined && port >= 1 && port <= PORT_MAX
    ? undefined
    : clientException(`Invalid 'containerPort' setting for container '${nameOf(c)}'.`);
});

/** 0 (or absent) asks for a dynamic port in bridge mode. */
export const hostPortValid = eachMapping((p, c) =>
  p.hostPort === undefined || (p.hostPort >= 0 && p.hostPort <= PORT_MAX)
    ? undefined
    : clientException(`Invalid 'hostPort' setting for container '${nameOf(c)}'.`),
);

/** [seen] for awsvpc; host mode has the same rule (documented) and the same wording. */
export const hostPortMatchesInSharedModes = eachMapping((p, _c, v) => {
  if (v.mode !== "awsvpc" && v.mode !== "host") return undefined;
  if (p.hostPort === undefined || p.hostPort === 0 || p.hostPort === p.containerPort) return undefined;
  return clientException(`When networkMode=${v.mode}, the host ports and container ports in port mappings must match.`);
});

/** "You can't expose the same container port for multiple protocols" (API model, PortMapping). */
export const containerPortOnce = eachContainer((c) => {
  const seen = new Set<number>();
  for (const p of c.portMappings ?? []) {
    if (p.containerPort === undefined) continue;
    if (seen.has(p.containerPort))
      return clientException(
        `Invalid 'containerPort' setting for container '${nameOf(c)}'. Port ${p.containerPort} is used in more than one port mapping.`,
      );
    seen.add(p.containerPort);
  }
  return undefined;
});

export const portMappingName = eachMapping((p, c) =>
  p.name === undefined || PORT_NAME.test(p.name)
    ? undefined
    : clientException(
        `Invalid port mapping name '${p.name}' for container '${nameOf(c)}'. Use up to 64 lowercase letters, digits, '_' and '-', not starting with '-'.`,
      ),
);

/**
 * containerPortRange: bridge or awsvpc only, "first-last" with 1 ≤ first < last ≤ 65535, no
 * hostPort beside it, at most 100 ranges per container, and no port in two mappings.
 */
export const containerPortRanges = eachContainer((c, v) => {
  const ranges = (c.portMappings ?? []).filter((p) => p.containerPortRange !== undefined);
  if (ranges.length === 0) return undefined;
  const bad = (why: string) =>
    clientException(`Invalid 'containerPortRange' setting for container '${nameOf(c)}'. ${why}`);
  if (v.mode !== "bridge" && v.mode !== "awsvpc") return bad("Port ranges need networkMode bridge or awsvpc.");
  if (ranges.length > MAX_PORT_RANGES) return bad(`At most ${MAX_PORT_RANGES} port ranges are allowed.`);
  const taken: [number, number][] = (c.portMappings ?? [])
    .filter((p) => p.containerPort !== undefined)
    .map((p) => [p.containerPort as number, p.containerPort as number]);
  for (const p of ranges) {
    const m = PORT_RANGE.exec(p.containerPortRange ?? "");
    const first = Number(m?.[1]);
    const last = Number(m?.[2]);
    if (!m || first < 1 || last > PORT_MAX || first >= last)
      return bad("Use first-last with 1 ≤ first < last ≤ 65535.");
    if (p.hostPort !== undefined) return bad("hostPort cannot be set with a port range.");
    if (taken.some(([a, b]) => first <= b && a <= last)) return bad("Port ranges cannot overlap other port mappings.");
    taken.push([first, last]);
  }
  return undefined;
});

/** [seen] for awsvpc; links exist only on Docker's default bridge. */
export const linksOnlyInBridge = eachContainer((c, v) =>
  (c.links?.length ?? 0) > 0 && v.mode !== "bridge"
    ? clientException(`Links are not supported when networkMode=${v.mode}.`)
    : undefined,
);

/** [seen] The ENI sets the hostname in awsvpc. */
export const noHostnameWithAwsvpc = eachContainer((c, v) =>
  c.hostname !== undefined && v.mode === "awsvpc"
    ? clientException("hostname is not supported on container when networkMode=awsvpc.")
    : undefined,
);

export const noExtraHostsWithAwsvpc = eachContainer((c, v) =>
  (c.extraHosts?.length ?? 0) > 0 && v.mode === "awsvpc"
    ? clientException("extraHosts is not supported on container when networkMode=awsvpc.")
    : undefined,
);
