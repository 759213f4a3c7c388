import type { ContainerDefinition } from "../../events/taskdef.shapes.ts";
import type { ContainerInfo } from "./docker/port.ts";

/**
 * Container dependencies (`dependsOn`), pure. ECS starts a container only once every dependency
 * meets its condition, and stops containers in the reverse of that order:
 *
 *   START     the dependency has started
 *   COMPLETE  the dependency has exited (any code)
 *   SUCCESS   the dependency has exited 0
 *   HEALTHY   the dependency's Docker health check passed (evaluated at start-up only)
 */

export type Condition = "START" | "COMPLETE" | "SUCCESS" | "HEALTHY";

/** Definition order, except that every container comes after the containers it depends on. Stable. */
export function startOrder(defs: ContainerDefinition[]): ContainerDefinition[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const out: ContainerDefinition[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (d: ContainerDefinition) => {
    const s = state.get(d.name);
    if (s === "done") return;
    // A cycle is refused at RegisterTaskDefinition; here it degrades to definition order.
    if (s === "visiting") return;
    state.set(d.name, "visiting");
    for (const dep of d.dependsOn ?? []) {
      const target = byName.get(dep.containerName);
      if (target) visit(target);
    }
    state.set(d.name, "done");
    out.push(d);
  };
  for (const d of defs) visit(d);
  return out;
}

export const stopOrder = (defs: ContainerDefinition[]) => startOrder(defs).reverse();

export type ConditionState = "met" | "pending" | "never";

/** Whether a dependency, as Docker reports it now, meets `condition`; "never" when it cannot any more. */
export function conditionState(condition: Condition, dep: ContainerInfo | undefined): ConditionState {
  if (!dep) return "pending";
  const s = dep.state;
  const exited = s.status === "exited" || s.status === "dead";
  const failedToStart = (s.status === "created" && s.error !== "") || (exited && s.startedAt === undefined);
  if (failedToStart) return "never";
  switch (condition) {
    case "START":
      return s.startedAt !== undefined ? "met" : "pending";
    case "COMPLETE":
      return exited ? "met" : "pending";
    case "SUCCESS":
      return exited ? (s.exitCode === 0 ? "met" : "never") : "pending";
    case "HEALTHY":
      if (s.health === "healthy") return "met";
      return s.health === "unhealthy" || exited ? "never" : "pending";
    default: {
      const never: never = condition;
      throw new Error(`unknown condition ${String(never)}`);
    }
  }
}
