/**
 * One line per ECS EventBridge-shaped event (`berth events --ecs`): its time, detail type, the
 * resource it is about (the ARN's resource part) and what changed. Events of other shapes, or
 * text that is not an event, are printed as they came.
 */

type Detail = Record<string, unknown>;

interface EcsEventLike {
  time?: unknown;
  "detail-type"?: unknown;
  resources?: unknown;
  detail?: unknown;
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/** `arn:aws:ecs:us-east-1:000000000000:task/default/abc` → `task/default/abc`. */
export function resourceOf(arn: string): string {
  const parts = arn.split(":");
  return parts[0] === "arn" && parts.length >= 6 ? parts.slice(5).join(":") : arn;
}

function what(type: string, d: Detail): string {
  const version = num(d.version) === undefined ? "" : `  v${d.version}`;
  switch (type) {
    case "ECS Task State Change": {
      const stopped = str(d.stoppedReason) ? ` — ${d.stoppedReason}` : "";
      const health = str(d.healthStatus) && d.healthStatus !== "UNKNOWN" ? ` ${d.healthStatus}` : "";
      return `${d.lastStatus} (desired ${d.desiredStatus})${health}${stopped}${version}`;
    }
    case "ECS Container Instance State Change": {
      const agent = d.agentConnected === false ? "agent disconnected" : "agent connected";
      return `${d.status} ${agent}, ${d.runningTasksCount ?? 0} running, ${d.pendingTasksCount ?? 0} pending${version}`;
    }
    case "ECS Service Action":
      return [d.eventName, str(d.reason)].filter(Boolean).join(" ");
    case "ECS Deployment State Change":
      return `${d.eventName} ${d.deploymentId}: ${d.reason}`;
    default:
      return JSON.stringify(d);
  }
}

export function ecsEventLine(text: string): string {
  let e: EcsEventLike;
  try {
    e = JSON.parse(text) as EcsEventLike;
  } catch {
    return text;
  }
  const type = str(e?.["detail-type"]);
  const detail = e?.detail;
  if (!type || typeof detail !== "object" || detail === null) return text;
  const resource = Array.isArray(e.resources) && typeof e.resources[0] === "string" ? resourceOf(e.resources[0]) : "-";
  return `${str(e.time) ?? "-"}  ${type.padEnd(35)}  ${resource}  ${what(type, detail as Detail)}`;
}
