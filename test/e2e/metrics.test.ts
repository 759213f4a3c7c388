import {
  CreateServiceCommand,
  DescribeClustersCommand,
  RegisterTaskDefinitionCommand,
  type Service,
} from "@aws-sdk/client-ecs";
import { DescribeServicesCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";

let b: BerthFixture;

beforeAll(async () => {
  b = await startBerth("t-metrics");
});
afterAll(async () => {
  await b?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (0.0.4): families with their TYPE, and every sample. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      types.set(name as string, type as string);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"/g))
      labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

async function scrape() {
  const res = await fetch(`${b.endpoint}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe("GET /metrics", () => {
  test("exposes tasks, services, placements, the event store, agents, API requests and the read model with sane values", async () => {
    const td = await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "metered",
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 1 },
        ],
      }),
    );
    await b.ecs.send(
      new CreateServiceCommand({
        cluster: b.cluster,
        serviceName: "metered",
        taskDefinition: td.taskDefinition?.taskDefinitionArn,
        desiredCount: 2,
      }),
    );
    await waitFor(
      async () => {
        const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["metered"] })))
          .services?.[0] as Service;
        return s.runningCount === 2 && s.deployments?.[0]?.rolloutState === "COMPLETED";
      },
      { timeoutMs: 90_000, intervalMs: 250, what: "service metered steady at 2" },
    );
    // One request that fails with a known ECS error code.
    await expect(
      b.ecs.send(new DescribeClustersCommand({ clusters: ["x"], include: ["NOPE" as never] })),
    ).rejects.toThrow();

    // An action no ECS client would name is counted as "unknown", not as a new label value.
    const bogus = await fetch(b.endpoint, {
      method: "POST",
      headers: {
        "x-amz-target": "AmazonEC2ContainerServiceV20141113.NoSuchAction",
        "content-type": "application/x-amz-json-1.1",
      },
      body: "{}",
    });
    expect(bogus.status).toBe(400);

    const { types, samples } = await scrape();
    const cluster = { cluster: b.cluster };

    // Every family is there with the right type.
    expect(Object.fromEntries([...types].filter(([n]) => n.startsWith("berth_")))).toMatchObject({
      berth_tasks: "gauge",
      berth_service_desired_tasks: "gauge",
      berth_service_running_tasks: "gauge",
      berth_service_pending_tasks: "gauge",
      berth_placements_total: "counter",
      berth_placement_duration_seconds: "histogram",
      berth_event_store_append_duration_seconds: "histogram",
      berth_event_store_append_conflicts_total: "counter",
      berth_agent_heartbeats_total: "counter",
      berth_agents_connected: "gauge",
      berth_container_instances: "gauge",
      berth_api_requests_total: "counter",
      berth_api_request_duration_seconds: "histogram",
      berth_read_model_sequence: "gauge",
      berth_read_model_skipped_events_total: "counter",
      berth_scheduler_leader: "gauge",
      berth_ecs_events_published_total: "counter",
    });

    // Tasks by lastStatus, services desired vs running.
    expect(value(samples, "berth_tasks", { ...cluster, last_status: "RUNNING" })).toBe(2);
    const svc = { ...cluster, service: "metered" };
    expect(value(samples, "berth_service_desired_tasks", svc)).toBe(2);
    expect(value(samples, "berth_service_running_tasks", svc)).toBe(2);
    expect(value(samples, "berth_service_pending_tasks", svc)).toBe(0);

    // Placements: the two service tasks, each batch timed.
    expect(value(samples, "berth_placements_total", { outcome: "placed", launch_type: "EC2" })).toBeGreaterThanOrEqual(
      2,
    );
    expect(value(samples, "berth_placement_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(value(samples, "berth_placement_duration_seconds_sum")).toBeGreaterThan(0);

    // Event store: every append timed; conflicts counted (none expected with one control plane, never negative).
    const appends = value(samples, "berth_event_store_append_duration_seconds_count", { outcome: "ok" });
    expect(appends).toBeGreaterThan(5);
    expect(value(samples, "berth_event_store_append_duration_seconds_bucket", { outcome: "ok", le: "+Inf" })).toBe(
      appends,
    );
    expect(value(samples, "berth_event_store_append_conflicts_total")).toBeGreaterThanOrEqual(0);

    // Agents: heartbeats arrive; the one agent is connected.
    expect(value(samples, "berth_agent_heartbeats_total", { region: "us-east-1" })).toBeGreaterThanOrEqual(1);
    expect(value(samples, "berth_agents_connected", cluster)).toBe(1);
    expect(value(samples, "berth_container_instances", { ...cluster, status: "ACTIVE", agent_connected: "true" })).toBe(
      1,
    );

    // API requests by action and error code.
    expect(value(samples, "berth_api_requests_total", { action: "CreateService", error_code: "" })).toBe(1);
    expect(
      value(samples, "berth_api_requests_total", { action: "DescribeServices", error_code: "" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(samples, "berth_api_requests_total", {
        action: "DescribeClusters",
        error_code: "InvalidParameterException",
      }),
    ).toBe(1);
    expect(value(samples, "berth_api_request_duration_seconds_count", { action: "CreateService" })).toBe(1);
    expect(
      value(samples, "berth_api_requests_total", { action: "unknown", error_code: "UnknownOperationException" }),
    ).toBe(1);
    expect(samples.some((s) => s.labels.action === "NoSuchAction")).toBe(false);

    // Read model: its position is the log's head or close behind it; nothing skipped.
    const health = (await (await fetch(`${b.endpoint}/health`)).json()) as { seq: number };
    expect(value(samples, "berth_read_model_sequence")).toBeGreaterThan(0);
    expect(value(samples, "berth_read_model_sequence")).toBeLessThanOrEqual(health.seq);
    expect(value(samples, "berth_read_model_skipped_events_total")).toBe(0);

    // The only control plane leads, and so publishes the ECS events.
    expect(value(samples, "berth_scheduler_leader")).toBe(1);
    expect(
      value(samples, "berth_ecs_events_published_total", { detail_type: "ECS Task State Change" }),
    ).toBeGreaterThanOrEqual(4);
    // The process's own metrics come along.
    expect(types.get("process_cpu_user_seconds_total")).toBe("counter");
  });
});
