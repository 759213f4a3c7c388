import type { PlacementConstraint, PlacementStrategy } from "../../events/shapes.ts";
import type { Rejection } from "../decider.ts";
import { parseExpression } from "./cql.ts";

/**
 * The placement members of a request (RunTask, CreateService, UpdateService), checked before
 * anything is placed: a constraint or strategy ECS's model does not allow is the caller's
 * InvalidParameterException, never a task that fails to place ("MemberOf placement constraint
 * unsatisfied") or a strategy quietly ignored.
 */
export function checkPlacement(constraints: readonly PlacementConstraint[] = [], strategies: readonly PlacementStrategy[] = []): Rejection | undefined {
  for (const c of constraints) {
    if (c.type === "memberOf") {
      if (!c.expression) return invalid("A memberOf placement constraint needs an expression.");
      const p = parseExpression(c.expression);
      if (!p.ok) return p.rejection;
    } else if (c.type === "distinctInstance" && c.expression) return invalid("distinctInstance does not take an expression.");
  }
  for (const st of strategies) {
    if (st.type === "random" && st.field) return invalid("The random placement strategy does not take a field.");
    if (st.type === "binpack" && st.field !== "cpu" && st.field !== "memory") return invalid("binpack needs field cpu or memory.");
    if (st.type === "spread" && !st.field) return invalid("spread needs a field: instanceId, host or attribute:<name>.");
  }
  return undefined;
}

const invalid = (message: string): Rejection => ({ code: "InvalidParameterException", message });
