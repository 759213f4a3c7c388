import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { streams, subjects } from "../../../events/names.ts";
import { deploymentLaunchType } from "../../../machines/account/capacity-providers.ts";
import { clusterCounts } from "../../api/counts.ts";
import { instanceTaskCounts } from "../../api/handlers/instances.ts";
import { renderCluster, renderInstance, renderTask } from "../../api/render.ts";
import { renderService } from "../../api/render-service.ts";
import { ReadModel } from "../../control-plane/read-model.ts";
import { daemonInstances } from "../../scheduler/views.ts";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectNats, natsClientHelp, natsClientOptions } from "../nats-client.ts";
import {
  byNewest,
  CLUSTER_HEADERS,
  type ClusterLike,
  clusterRow,
  INSTANCE_HEADERS,
  type InstanceLike,
  instanceRow,
  SERVICE_HEADERS,
  type ServiceLike,
  serviceRow,
  TASK_HEADERS,
  type TaskLike,
  table,
  taskRow,
} from "../table.ts";

/** A point in the log: a stream sequence, or a time (epoch ms); neither means its end. */
export interface Cut {
  seq?: number;
  time?: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1234` (sequence), `2026-11-21T10:00:00Z` (time), `15m` / `-15m` / `15m ago` (that long before now), `now`. */
export function parseAt(value: string, now: number, flag = "--at"): Cut {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seq = Number(text);
    if (seq < 1) throw new UsageError(`${flag} sequence numbers start at 1`);
    return { seq };
  }
  if (text === "now") return { time: now };
  const rel = /^-?(\d+)\s*([smhd])(?:\s+ago)?$/.exec(text);
  if (rel) return { time: now - Number(rel[1]) * (UNITS[rel[2] as string] as number) };
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${flag} takes a sequence number, a time (ISO 8601) or a duration ago (15m), not ${JSON.stringify(value)}`);
  return { time: t };
}

export interface Rebuilt {
  model: ReadModel;
  /** Sequence and stream time (epoch ms) of the last event folded; 0 / undefined before the first. */
  seq: number;
  time: number | undefined;
}

/**
 * Folds the event log into a fresh ReadModel — the control plane's own projection — from the
 * first event up to the cut, with an ordered consumer. Nothing but the log is read: this is the
 * state as the log says it was. Times are the stream's storage times, which only grow with the
 * sequence, so "at 10:00" is "every event stored up to 10:00".
 */
export async function rebuild(nc: NatsConnection, cut: Cut, model: ReadModel): Promise<Rebuilt> {
  const jsm = await jetstreamManager(nc);
  let last: number;
  try {
    last = (await jsm.streams.info(streams.events)).state.last_seq;
  } catch (err) {
    throw new Error(`no event log (stream ${streams.events}) on this NATS server: ${(err as Error).message}`);
  }
  if (cut.seq !== undefined && cut.seq > last) throw new Error(`the log ends at sequence ${last}; there is no ${cut.seq} yet`);
  const end = cut.seq ?? last;
  const out: Rebuilt = { model, seq: 0, time: undefined };
  if (end === 0) return out;
  const consumer = await jetstream(nc).consumers.get(streams.events, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 1_000 });
  try {
    for await (const m of messages) {
      const at = m.info.timestampNanos / 1e6;
      if (cut.time !== undefined && at > cut.time) break;
      model.apply(m.seq, m.subject, m.data);
      out.seq = m.seq;
      out.time = Math.floor(at);
      if (m.seq >= end || m.info.pending === 0) break;
    }
  } finally {
    await messages.close().catch(() => {});
  }
  return out;
}

export interface StateView {
  sequence: number;
  time: string | undefined;
  clusters: Record<string, unknown>[];
  services: Record<string, unknown>[];
  tasks: Record<string, unknown>[];
  containerInstances: Record<string, unknown>[];
}

/**
 * The rebuilt model in ECS's shapes — the same renderers the API answers Describe* with, so a
 * task here is what DescribeTasks said at that point. Without `all`, what ECS lists by default:
 * ACTIVE clusters, ACTIVE/DRAINING services and instances, tasks not yet STOPPED.
 */
export function view(r: Rebuilt, f: { region?: string; cluster?: string; all: boolean }, now: number): StateView {
  const { model } = r;
  const none = new Set<string>();
  const out: StateView = { sequence: r.seq, time: r.time === undefined ? undefined : new Date(r.time).toISOString(), clusters: [], services: [], tasks: [], containerInstances: [] };
  const clusters = [...model.clusters.values()]
    .filter((c) => (f.region === undefined || c.region === f.region) && (f.cluster === undefined || c.snapshot.context.clusterName === f.cluster))
    .filter((c) => c.snapshot.value === "ACTIVE" || (f.all && c.snapshot.value !== "NEW"))
    .sort((a, b) => a.snapshot.context.clusterName.localeCompare(b.snapshot.context.clusterName));
  for (const c of clusters) {
    const subject = subjects.cluster(c.region, c.snapshot.context.clusterName);
    out.clusters.push(renderCluster(c, clusterCounts(model, subject), none));
    for (const s of model.servicesByCluster.get(subject) ?? []) {
      const agg = model.services.get(s);
      if (!agg || agg.snapshot.value === "NEW" || (!f.all && agg.snapshot.value === "INACTIVE")) continue;
      const ctx = agg.snapshot.context;
      const daemon =
        ctx.schedulingStrategy === "DAEMON"
          ? daemonInstances(model, subject, ctx.settings.placementConstraints, deploymentLaunchType(ctx.deployments[0])).length
          : undefined;
      out.services.push(renderService(agg, model, now, none, daemon));
    }
    for (const s of model.tasksByCluster.get(subject)?.values() ?? []) {
      const agg = model.tasks.get(s);
      if (agg && (f.all || agg.snapshot.value !== "STOPPED")) out.tasks.push(renderTask(agg, none));
    }
    for (const s of model.instancesByCluster.get(subject) ?? []) {
      const agg = model.instances.get(s);
      const status = agg?.snapshot.value as string | undefined;
      if (!agg || status === "NEW" || (!f.all && status === "INACTIVE")) continue;
      out.containerInstances.push(renderInstance(agg, model.usage.get(s), instanceTaskCounts(model, s), none));
    }
  }
  return isoTimestamps(out);
}

/**
 * Epoch-second timestamps (every ECS timestamp member ends in `At`) → ISO 8601, as the SDK and
 * the AWS CLI show them and as the other berth commands print them. Rounded to the millisecond
 * the way the SDK parses them.
 */
export function isoTimestamps<T>(value: T): T {
  if (Array.isArray(value)) return value.map(isoTimestamps) as T;
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k.endsWith("At") && typeof v === "number" ? new Date(Math.round(v * 1000)).toISOString() : isoTimestamps(v);
  }
  return out as T;
}

const clusterOf = (arn: unknown) => String(arn ?? "").split("/").pop() ?? "";

/** `now`: the moment the state is of (ages are counted up to it), the cut's time or its last event's. */
function print(v: StateView, at: string, now: number): void {
  const where = v.sequence === 0 ? "before the first event" : `after event ${v.sequence} (stored ${v.time})`;
  console.log(`State at ${at}: ${where}, rebuilt from the event log\n`);
  const section = (title: string, headers: readonly string[], rows: string[][]) => {
    console.log(rows.length ? table(headers, rows) : `No ${title}.`);
    console.log("");
  };
  section("clusters", CLUSTER_HEADERS, v.clusters.map((c) => clusterRow(c as ClusterLike)));
  section(
    "services",
    ["CLUSTER", ...SERVICE_HEADERS],
    v.services.map((s) => [clusterOf(s.clusterArn), ...serviceRow(s as ServiceLike)]),
  );
  section(
    "tasks",
    ["CLUSTER", ...TASK_HEADERS],
    byNewest(v.tasks as TaskLike[]).map((t) => [clusterOf((t as Record<string, unknown>).clusterArn), ...taskRow(t, now)]),
  );
  const instanceCluster = (i: Record<string, unknown>) => String(i.containerInstanceArn ?? "").split("/").at(-2) ?? "";
  section(
    "container instances",
    ["CLUSTER", ...INSTANCE_HEADERS],
    v.containerInstances.map((i) => [instanceCluster(i), ...instanceRow(i as InstanceLike)]),
  );
}

export const stateCommand: CommandSpec = {
  name: "state",
  summary: "time travel: clusters, services, tasks and instances as they were at a point of the event log",
  usage: "berth state [--at SEQ|TIME|DURATION] [--cluster NAME] [--region R] [--all] [--json] [--nats URL] [--data-dir DIR]",
  options: {
    at: { type: "string" },
    cluster: { type: "string" },
    region: { type: "string" },
    all: { type: "boolean", short: "a" },
    json: { type: "boolean" },
    ...natsClientOptions,
  },
  help: [
    ["--at SEQ|TIME|DURATION", "a stream sequence (1234), a time (2026-11-21T10:00:00Z) or a duration ago (15m, 2h); default: now"],
    ["--cluster NAME", "only this cluster (default: every cluster)"],
    ["--region R", "only this region (default: every region)"],
    ["-a, --all", "include STOPPED tasks and INACTIVE clusters, services and instances"],
    ["--json", "the state as ECS Describe* shapes: {sequence, time, clusters, services, tasks, containerInstances}"],
    ...natsClientHelp("reader"),
  ],
  examples: ["berth state --at 15m", "berth state --at 2026-11-21T10:00:00Z --cluster prod", "berth state --at 1200 --json | jq '.tasks[].lastStatus'"],
  async run(v) {
    const now = Date.now();
    const atText = v.at === undefined ? "now" : String(v.at);
    const cut = parseAt(atText, now);
    const nc = await connectNats(v, "reader", { name: "berth-state" });
    try {
      // The projection's warnings (events it cannot fold) go to stderr, never into the output.
      const log = pino({ level: process.env.BERTH_LOG_LEVEL ?? "warn", base: { name: "berth-state" } }, pino.destination(2));
      const rebuilt = await rebuild(nc, cut, new ReadModel(log));
      const moment = cut.time ?? rebuilt.time ?? now;
      const state = view(
        rebuilt,
        {
          all: Boolean(v.all),
          ...(v.cluster !== undefined ? { cluster: String(v.cluster) } : {}),
          ...(v.region !== undefined ? { region: String(v.region) } : {}),
        },
        moment,
      );
      if (v.json) console.log(JSON.stringify(state, null, 2));
      else print(state, cut.seq !== undefined ? `sequence ${cut.seq}` : new Date(cut.time ?? now).toISOString(), moment);
      return 0;
    } finally {
      await nc.close();
    }
  },
};
