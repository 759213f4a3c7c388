import { clientException, type ContainerInput, eachContainer, type Rule } from "./request.ts";

/**
 * Rules about names one part of the definition uses to refer to another: dependsOn and
 * volumesFrom name containers, mountPoints name volumes. [seen] marks ECS's own words.
 */

const nameOf = (c: ContainerInput) => c.name ?? "";
const namesOf = (containers: readonly ContainerInput[]) => new Set(containers.map(nameOf));

/** [seen] verbatim, including the stray "+ " ECS puts before the quoted name. */
export const dependsOnExisting: Rule = ({ containers }) => {
  const names = namesOf(containers);
  for (const c of containers)
    for (const d of c.dependsOn ?? [])
      if (!names.has(d.containerName))
        return clientException(`Cannot depend on container + '${d.containerName}' because it does not exist`);
  return undefined;
};

/**
 * [seen] COMPLETE and SUCCESS wait for the dependency to exit, and an essential container's exit
 * stops the task, so such a dependency could never be satisfied.
 */
export const completionNotOnEssential: Rule = ({ containers }) => {
  const essential = new Set(containers.filter((c) => c.essential !== false).map(nameOf));
  for (const c of containers)
    for (const d of c.dependsOn ?? [])
      if ((d.condition === "COMPLETE" || d.condition === "SUCCESS") && essential.has(d.containerName))
        return clientException(
          "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container",
        );
  return undefined;
};

/**
 * Start order must exist: the dependency graph has no cycle (a container depending on itself is
 * the shortest one). Same wording as ECS's "Container links should not have a cycle".
 */
export const dependsOnAcyclic: Rule = ({ containers }) => {
  const edges = new Map(containers.map((c) => [nameOf(c), (c.dependsOn ?? []).map((d) => d.containerName)]));
  const state = new Map<string, "visiting" | "done">();
  const cyclic = (n: string): boolean => {
    const s = state.get(n);
    if (s === "done") return false;
    if (s === "visiting") return true;
    state.set(n, "visiting");
    const found = (edges.get(n) ?? []).some(cyclic);
    state.set(n, "done");
    return found;
  };
  return [...edges.keys()].some(cyclic) ? clientException("Container dependencies should not have a cycle") : undefined;
};

/** [seen] A mount point's sourceVolume must be one of the task's volumes. */
export const mountPointVolumesDeclared: Rule = eachContainer((c, v) => {
  const volumes = new Set((v.req.volumes ?? []).map((vol) => vol.name));
  const missing = (c.mountPoints ?? []).find((m) => !volumes.has(m.sourceVolume));
  return missing ? clientException(`Unknown volume '${missing.sourceVolume ?? "null"}'.`) : undefined;
});

/** volumesFrom must name another container of the same task. */
export const volumesFromExisting: Rule = eachContainer((c, v) => {
  const names = namesOf(v.containers);
  const bad = (c.volumesFrom ?? []).find((f) => f.sourceContainer === c.name || !names.has(f.sourceContainer ?? ""));
  return bad
    ? clientException(
        `Invalid 'volumesFrom' setting for container '${nameOf(c)}'. '${bad.sourceContainer ?? ""}' is not another container of this task definition.`,
      )
    : undefined;
});
