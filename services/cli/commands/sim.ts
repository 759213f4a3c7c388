import { DEFAULT_LOST_AGENT_TIMEOUT_MS } from "../../../events/agent.ts";
import { type Fleet, FleetStopped, MAX_ZONES, startFleet } from "../../sim/fleet.ts";
import { type CommandSpec, env, integer, UsageError } from "../args.ts";
import { rootLogger } from "../logger.ts";
import { connectNats, natsClientHelp, natsClientOptions } from "../nats-client.ts";
import { untilSignal } from "../signals.ts";

const STATUS_EVERY_MS = 10_000;

export const simCommand: CommandSpec = {
  name: "sim",
  summary: "register a simulated fleet of hollow instances, to try placement and services at scale",
  usage:
    "berth sim --instances N [--cluster C] [--region R] [--start-latency MS] [--failure-rate P] [--attributes k=v,…] [--az-count N] [--fargate]",
  options: {
    instances: { type: "string" },
    cluster: { type: "string" },
    "start-latency": { type: "string" },
    "failure-rate": { type: "string" },
    attributes: { type: "string" },
    "az-count": { type: "string" },
    fargate: { type: "boolean" },
    cpu: { type: "string" },
    memory: { type: "string" },
    "heartbeat-interval": { type: "string" },
    seed: { type: "string" },
    region: { type: "string" },
    ...natsClientOptions,
  },
  help: [
    ["--instances N", "hollow container instances to register (required)"],
    ["--cluster C", "cluster to join; it must exist, except `default` (default $BERTH_CLUSTER or default)"],
    ["--start-latency MS", "mean time from StartTask to RUNNING; each start takes 0.5–1.5× it (default 0)"],
    ["--failure-rate P", "probability, 0–1, that a task fails to start (default 0)"],
    ["--attributes k=v,…", "custom attributes on every instance, for memberOf constraints"],
    ["--az-count N", "spread instances over N availability zones <region>a, b, … (default 3, at most 26)"],
    ["--fargate", "also offer FARGATE capacity, as `berth agent --fargate`: FARGATE and FARGATE_SPOT tasks and strategies"],
    ["--cpu UNITS", "CPU units per instance, 1024 per vCPU (default 2048)"],
    ["--memory MIB", "memory per instance in MiB (default 8192)"],
    ["--heartbeat-interval MS", "heartbeat interval per instance (default 5000, as a real agent; keep it within the server's --lost-agent-timeout)"],
    ["--seed N", "seeds start latencies and failures (default 1)"],
    ["--region R", "region; no real agent may run in it, the fleet takes all its directives (default $BERTH_REGION or us-east-1)"],
    ["", "`npm start`'s local agent runs in us-east-1: give the fleet another region, as below."],
    ...natsClientHelp("control plane"),
    ["", "Hollow instances run no containers: they answer directives with the observations a real agent"],
    ["", "would publish, through the real control plane. Ctrl-C stops them: they stay registered, are marked"],
    ["", "disconnected after the server's lost-agent timeout, and their service tasks are placed elsewhere."],
    ["", "One fleet per region: a second is refused while the first runs."],
  ],
  examples: [
    "aws ecs create-cluster --cluster-name sim --region us-west-2 --endpoint-url http://127.0.0.1:8417",
    "berth sim --instances 10000 --cluster sim --region us-west-2 --start-latency 2000 --failure-rate 0.01 --az-count 3",
    "berth sim --instances 50 --cluster sim --region us-west-2 --attributes rack=r1,gpu=none",
    "berth sim --instances 200 --cluster sim --region us-west-2 --fargate",
  ],
  async run(v) {
    const instances = integer(v.instances, "--instances", 1);
    if (instances === undefined) throw new UsageError("--instances is required");
    const rate = v["failure-rate"] === undefined ? "0" : String(v["failure-rate"]).trim();
    const failureRate = rate === "" ? Number.NaN : Number(rate);
    if (!(failureRate >= 0 && failureRate <= 1)) throw new UsageError("--failure-rate must be a number from 0 to 1");
    const azCount = integer(v["az-count"], "--az-count", 1) ?? 3;
    if (azCount > MAX_ZONES) throw new UsageError(`--az-count is at most ${MAX_ZONES} (zones <region>a to <region>z)`);
    const heartbeatIntervalMs = integer(v["heartbeat-interval"], "--heartbeat-interval", 100) ?? 5_000;
    if (heartbeatIntervalMs >= DEFAULT_LOST_AGENT_TIMEOUT_MS)
      console.error(
        `berth sim: heartbeats every ${heartbeatIntervalMs} ms are not within the control plane's default lost-agent timeout (${DEFAULT_LOST_AGENT_TIMEOUT_MS} ms): the instances will be marked lost between beats unless the server runs with a longer --lost-agent-timeout`,
      );
    const log = rootLogger("berth-sim");
    const nc = await connectNats(v, "control plane", { name: "berth-sim", maxReconnectAttempts: -1, noAsyncTraces: true });
    const cluster = String(v.cluster ?? env("BERTH_CLUSTER", "default"));
    const region = String(v.region ?? env("BERTH_REGION", "us-east-1"));
    // Ctrl-C is heard from the start: during registration it stops registering.
    const stopping = new AbortController();
    const signalled = untilSignal().then(() => stopping.abort());
    const left = (n: number) =>
      `${n} instances stay registered in cluster ${cluster} (${region}): the control plane marks them disconnected after its lost-agent timeout (${DEFAULT_LOST_AGENT_TIMEOUT_MS / 1000} s unless the server sets --lost-agent-timeout) and places their service tasks on other instances; \`aws ecs deregister-container-instance --force\` removes one`;
    const started = performance.now();
    let fleet: Fleet;
    try {
      fleet = await startFleet({
        nc,
        log,
        region,
        cluster,
        instances,
        startLatencyMs: integer(v["start-latency"], "--start-latency", 0) ?? 0,
        failureRate,
        attributes: attributes(v.attributes),
        azCount,
        capacity: v.fargate ? ["EC2", "FARGATE"] : ["EC2"],
        cpu: integer(v.cpu, "--cpu", 1) ?? 2048,
        memory: integer(v.memory, "--memory", 1) ?? 8192,
        heartbeatIntervalMs,
        seed: integer(v.seed, "--seed", 0) ?? 1,
        signal: stopping.signal,
      });
    } catch (err) {
      await nc.drain().catch(() => {});
      if (err instanceof FleetStopped) {
        console.log(`berth sim: stopped while registering; ${left(err.registered)}`);
        return 130;
      }
      if (/^ClusterNotFoundException/.test((err as Error).message))
        throw new Error(
          `cluster ${cluster} not found in ${region}; create it first (aws ecs create-cluster --cluster-name ${cluster} --region ${region})`,
        );
      throw err;
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`berth sim: ${fleet.instances.length} hollow instances registered in cluster ${cluster} (${region}) in ${secs} s`);
    const status = setInterval(() => {
      const s = fleet.stats();
      const discarded = s.discarded > 0 ? ` (and ${s.discarded} of an earlier run, discarded)` : "";
      console.log(
        `berth sim: running ${s.running} · started ${s.started} · failed ${s.failed} · stopped ${s.stopped} · directives ${s.directives - s.discarded}${discarded}`,
      );
    }, STATUS_EVERY_MS);
    await signalled;
    clearInterval(status);
    await fleet.stop();
    await nc.drain();
    console.log(`berth sim: stopped; ${left(fleet.instances.length)}`);
    return 0;
  },
};

/** `k=v,k2=v2` → { k: "v", k2: "v2" }. */
export function attributes(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === "") return out;
  for (const pair of String(value).split(",")) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, Math.max(eq, 0)).trim();
    const val = pair.slice(eq + 1).trim();
    if (eq < 0 || !/^[A-Za-z0-9._/-]{1,128}$/.test(name) || val === "")
      throw new UsageError(`--attributes: ${JSON.stringify(pair)} is not name=value`);
    out[name] = val;
  }
  return out;
}
