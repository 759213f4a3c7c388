import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Envelope } from "../../events/envelope.ts";
import type { EcsDetailType } from "../../events/names.ts";
import { subjects } from "../../events/names.ts";
import { deploymentLaunchType } from "../../machines/account/capacity-providers.ts";
import { ECS_OPERATIONS } from "../api/operations.ts";
import type { HttpRoute } from "../api/server.ts";
import { daemonInstances } from "../scheduler/views.ts";
import { type Appended, ConcurrencyError, EventStore } from "../store/event-store.ts";
import type { ReadModel } from "./read-model.ts";

/**
 * The control plane's Prometheus metrics (GET /metrics, text format 0.0.4).
 *
 * State gauges (tasks by status, service counts, connected agents, read-model position) are
 * computed from the read model when scraped, so they are never stale and cost nothing between
 * scrapes. Counters and histograms are fed by the instrumented paths: the API edge
 * (`observeRequest`), the event store (`MeasuredEventStore`), placement (`observePlacement`),
 * heartbeats and ECS event publishing. Each control plane has its own registry.
 */

/** Placement and appends take milliseconds; buckets from 1 ms to 5 s. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface MetricsSources {
  model: ReadModel;
  /** Last log sequence folded into the read model. */
  seq: () => number;
  /** True while this process holds the scheduler lease. */
  leading: () => boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly apiRequests: Counter<"action" | "error_code">;
  private readonly apiDuration: Histogram<"action">;
  private readonly placements: Counter<"launch_type" | "outcome" | "reason">;
  private readonly placementDuration: Histogram<"launch_type">;
  private readonly appendDuration: Histogram<"outcome">;
  private readonly appendConflicts: Counter;
  private readonly heartbeats: Counter<"region">;
  private readonly ecsEvents: Counter<"detail_type">;

  constructor(src: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const { model } = src;

    this.apiRequests = new Counter({
      name: "berth_api_requests_total",
      help: "ECS API requests by action and error code (error_code is empty for a success).",
      labelNames: ["action", "error_code"],
      registers,
    });
    this.apiDuration = new Histogram({
      name: "berth_api_request_duration_seconds",
      help: "ECS API request duration by action.",
      labelNames: ["action"],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.placements = new Counter({
      name: "berth_placements_total",
      help: "Tasks placed by this control plane, and tasks that could not be placed by reason.",
      labelNames: ["launch_type", "outcome", "reason"],
      registers,
    });
    this.placementDuration = new Histogram({
      name: "berth_placement_duration_seconds",
      help: "Time to place a batch of tasks and record them in the log (cluster placement lock held).",
      labelNames: ["launch_type"],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.appendDuration = new Histogram({
      name: "berth_event_store_append_duration_seconds",
      help: "Event-store appends (one batch on one aggregate) by outcome: ok, conflict or error.",
      labelNames: ["outcome"],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.appendConflicts = new Counter({
      name: "berth_event_store_append_conflicts_total",
      help: "Appends refused because another writer appended to the aggregate first (optimistic concurrency).",
      registers,
    });
    this.heartbeats = new Counter({
      name: "berth_agent_heartbeats_total",
      help: "Agent heartbeats seen by this control plane.",
      labelNames: ["region"],
      registers,
    });
    this.ecsEvents = new Counter({
      name: "berth_ecs_events_published_total",
      help: "ECS EventBridge-shaped events published on NATS, by detail type.",
      labelNames: ["detail_type"],
      registers,
    });

    new Gauge({
      name: "berth_tasks",
      help: "Tasks in the read model by region, cluster and lastStatus.",
      labelNames: ["region", "cluster", "last_status"],
      registers,
      collect() {
        this.reset();
        // region → cluster → lastStatus → tasks. Nested maps: a key string per task was megabytes
        // of garbage per scrape at 100,000 tasks.
        const counts = new Map<string, Map<string, Map<string, number>>>();
        for (const agg of model.tasks.values()) {
          let byCluster = counts.get(agg.region);
          if (!byCluster) {
            byCluster = new Map();
            counts.set(agg.region, byCluster);
          }
          const cluster = agg.snapshot.context.spec.cluster;
          let byStatus = byCluster.get(cluster);
          if (!byStatus) {
            byStatus = new Map();
            byCluster.set(cluster, byStatus);
          }
          const status = String(agg.snapshot.value);
          byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        }
        for (const [region, byCluster] of counts)
          for (const [cluster, byStatus] of byCluster)
            for (const [last_status, n] of byStatus) this.set({ region, cluster, last_status }, n);
      },
    });

    const serviceCounts = () => {
      const out: {
        labels: { region: string; cluster: string; service: string };
        desired: number;
        running: number;
        pending: number;
      }[] = [];
      for (const agg of model.services.values()) {
        const status = String(agg.snapshot.value);
        if (status !== "ACTIVE" && status !== "DRAINING") continue;
        const s = agg.snapshot.context;
        const clusterSubject = subjects.cluster(agg.region, s.cluster);
        const desired =
          status === "DRAINING"
            ? 0
            : s.schedulingStrategy === "DAEMON"
              ? daemonInstances(
                  model,
                  clusterSubject,
                  s.settings.placementConstraints,
                  deploymentLaunchType(s.deployments[0]),
                ).length
              : s.settings.desiredCount;
        let running = 0;
        let pending = 0;
        for (const t of model.tasksByService.get(agg.subject) ?? []) {
          const v = model.tasks.get(t)?.snapshot.value;
          if (v === "RUNNING") running++;
          else if (v === "PENDING" || v === "PROVISIONING" || v === "ACTIVATING") pending++;
        }
        out.push({
          labels: { region: agg.region, cluster: s.cluster, service: s.serviceName },
          desired,
          running,
          pending,
        });
      }
      return out;
    };
    for (const [name, help, pick] of [
      ["berth_service_desired_tasks", "Desired task count of each active service.", "desired"],
      ["berth_service_running_tasks", "RUNNING tasks of each active service.", "running"],
      ["berth_service_pending_tasks", "Tasks of each active service that are not RUNNING yet.", "pending"],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ["region", "cluster", "service"],
        registers,
        collect() {
          this.reset();
          for (const s of serviceCounts()) this.set(s.labels, s[pick]);
        },
      });
    }

    new Gauge({
      name: "berth_container_instances",
      help: "Registered container instances by region, cluster, status and whether their agent is connected.",
      labelNames: ["region", "cluster", "status", "agent_connected"],
      registers,
      collect() {
        this.reset();
        for (const agg of model.instances.values()) {
          const status = String(agg.snapshot.value);
          if (status === "NEW") continue;
          const labels = {
            region: agg.region,
            cluster: agg.snapshot.context.cluster,
            status,
            agent_connected: String(agg.snapshot.context.agentConnected),
          };
          this.inc(labels);
        }
      },
    });
    new Gauge({
      name: "berth_agents_connected",
      help: "ACTIVE or DRAINING container instances whose agent is connected.",
      labelNames: ["region", "cluster"],
      registers,
      collect() {
        this.reset();
        for (const agg of model.instances.values()) {
          const status = agg.snapshot.value;
          if (status !== "ACTIVE" && status !== "DRAINING") continue;
          const labels = { region: agg.region, cluster: agg.snapshot.context.cluster };
          if (agg.snapshot.context.agentConnected) this.inc(labels);
          else this.inc(labels, 0);
        }
      },
    });

    new Gauge({
      name: "berth_read_model_sequence",
      help: "Last log sequence folded into this control plane's read model.",
      registers,
      collect() {
        this.set(src.seq());
      },
    });
    new Counter({
      name: "berth_read_model_skipped_events_total",
      help: "Log messages the read model could not fold (not a known Berth event); they stay in the log.",
      registers,
      collect() {
        this.reset();
        this.inc(model.skipped);
      },
    });
    new Gauge({
      name: "berth_scheduler_leader",
      help: "1 while this control plane holds the scheduler lease.",
      registers,
      collect() {
        this.set(src.leading() ? 1 : 0);
      },
    });
  }

  /** The API edge's hook (createApiServer `observe`). */
  observeRequest = (rawAction: string, code: string | undefined, ms: number) => {
    // Any client can name any action: only ECS's own names become label values (bounded cardinality).
    const action = ECS_OPERATIONS.has(rawAction) ? rawAction : "unknown";
    const error_code = code ?? "";
    labelled(this.apiRequests, `${action}|${error_code}`, { action, error_code }).inc();
    labelled(this.apiDuration, action, { action }).observe(ms / 1000);
  };

  /** One placement batch: how many placed, why the others were not, and how long it took. */
  observePlacement = (o: { launchType: string; placed: number; failures: string[]; ms: number }) => {
    const launch_type = o.launchType;
    if (o.placed > 0) this.placements.inc({ launch_type, outcome: "placed", reason: "" }, o.placed);
    for (const reason of o.failures) this.placements.inc({ launch_type, outcome: "failed", reason });
    this.placementDuration.observe({ launch_type }, o.ms / 1000);
  };

  observeAppend(ms: number, outcome: "ok" | "conflict" | "error") {
    labelled(this.appendDuration, outcome, { outcome }).observe(ms / 1000);
    if (outcome === "conflict") this.appendConflicts.inc();
  }

  heartbeat(region: string) {
    labelled(this.heartbeats, region, { region }).inc();
  }

  ecsEventPublished = (detailType: EcsDetailType) => {
    labelled(this.ecsEvents, detailType, { detail_type: detailType }).inc();
  };

  route(log: Logger): HttpRoute {
    return {
      method: "GET",
      path: "/metrics",
      handle: async (_req, res) => {
        try {
          const text = await this.registry.metrics();
          res.writeHead(200, { "content-type": this.registry.contentType, "cache-control": "no-store" });
          res.end(text);
        } catch (err) {
          log.warn({ err }, "metrics scrape failed");
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          res.end("metrics unavailable\n");
        }
      },
    };
  }
}

/** The event store with every append timed and its outcome counted. */
export class MeasuredEventStore extends EventStore {
  constructor(
    private readonly metrics: Metrics,
    nc: NatsConnection,
    js: JetStreamClient,
    jsm: JetStreamManager,
    log: Logger,
  ) {
    super(nc, js, jsm, log);
  }

  override async append(subject: string, envelopes: readonly Envelope[], expectedSeq: number): Promise<Appended[]> {
    const started = performance.now();
    try {
      const out = await super.append(subject, envelopes, expectedSeq);
      this.metrics.observeAppend(performance.now() - started, "ok");
      return out;
    } catch (err) {
      this.metrics.observeAppend(performance.now() - started, err instanceof ConcurrencyError ? "conflict" : "error");
      throw err;
    }
  }
}

/**
 * A metric's child for one set of label values, made once: prom-client hashes the label object
 * on every inc() or observe(), which at one call per stored event was a visible share of the
 * control plane's time. `key` is the label values joined, unique per set.
 */
const children = new WeakMap<object, Map<string, unknown>>();
function labelled<L extends string, C>(
  metric: { labels(values: Partial<Record<L, string | number>>): C },
  key: string,
  values: Partial<Record<L, string>>,
): C {
  let byKey = children.get(metric);
  if (!byKey) {
    byKey = new Map();
    children.set(metric, byKey);
  }
  let child = byKey.get(key) as C | undefined;
  if (child === undefined) {
    child = metric.labels(values);
    byKey.set(key, child);
  }
  return child;
}
