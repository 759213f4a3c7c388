import { DEFAULT_LOST_AGENT_TIMEOUT_MS } from "../../../events/agent.ts";
import { apiAuthFromFile } from "../../api/auth/authenticator.ts";
import { startControlPlane } from "../../control-plane/control-plane.ts";
import { natsEnvAuth } from "../../security/nats-credentials.ts";
import { logMalloc } from "../allocator.ts";
import { type CommandSpec, env, integer, UsageError } from "../args.ts";
import { rootLogger } from "../logger.ts";
import { connectOrExplain, envLoginRefused, natsServers } from "../nats-client.ts";
import { untilSignal } from "../signals.ts";

/** JetStream keeps at most five replicas of a stream. */
const MAX_REPLICAS = 5;

export const serverCommand: CommandSpec = {
  name: "server",
  summary: "run the control plane (ECS API, scheduler, read models) against an existing NATS",
  usage:
    "berth server [--nats URL] [--replicas N] [--host ADDR] [--port N] [--region R] [--credentials FILE] [--lost-agent-timeout S] [--count-healthy-after S] [--heap-growth PERCENT]",
  options: {
    nats: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    region: { type: "string" },
    replicas: { type: "string" },
    "lost-agent-timeout": { type: "string" },
    "count-healthy-after": { type: "string" },
    credentials: { type: "string" },
    "heap-growth": { type: "string" },
  },
  help: [
    ["--nats URL", "NATS server(s), comma-separated (default $BERTH_NATS_URL or nats://127.0.0.1:4222)"],
    ["--host ADDR", "address to serve the API on (default $BERTH_HOST or 127.0.0.1)"],
    ["--port N", "API port (default $BERTH_PORT or 8417)"],
    ["--region R", "region for requests without a SigV4 scope (default $BERTH_REGION or us-east-1)"],
    [
      "--replicas N",
      "stream and bucket replicas: 3 on a three-server NATS cluster (default $BERTH_REPLICAS or 1); a server raises them, never lowers them",
    ],
    [
      "--lost-agent-timeout S",
      `seconds without heartbeat before an agent counts as lost (default ${DEFAULT_LOST_AGENT_TIMEOUT_MS / 1000})`,
    ],
    [
      "--count-healthy-after S",
      "seconds a RUNNING service task with no health check runs before it counts toward minimumHealthyPercent in deployments and draining (default 40, as ECS)",
    ],
    [
      "--credentials FILE",
      "access keys and policies the ECS API requires (default $BERTH_CREDENTIALS_FILE); without it the API is open",
    ],
    [
      "--heap-growth PERCENT",
      "once serving, grow the heap by this share of what it holds (default: V8's, up to 300 %): less memory committed after a burst, for more CPU while placing (docs/performance.md)",
    ],
    ["", "Environment: BERTH_NATS_USER and BERTH_NATS_PASSWORD for a NATS that requires a user."],
    [
      "",
      "BERTH_SECRETS_KEY: the secrets master key (base64 of 32 bytes), the same for every control plane of a cluster; without it, $BERTH_DATA_DIR/secrets.key (default ./.berth), made on first use.",
    ],
  ],
  async run(v) {
    const heapGrowthPercent = integer(v["heap-growth"], "--heap-growth", 1);
    const replicas = integer(v.replicas ?? process.env.BERTH_REPLICAS, "--replicas (BERTH_REPLICAS)", 1) ?? 1;
    if (replicas > MAX_REPLICAS) throw new UsageError(`--replicas (BERTH_REPLICAS) must be at most ${MAX_REPLICAS}, JetStream's limit`);
    const noHealthCheckWait = integer(v["count-healthy-after"], "--count-healthy-after", 0);
    const log = rootLogger("berth-server");
    const nc = await connectOrExplain(
      {
        servers: natsServers(v),
        name: "berth-server",
        maxReconnectAttempts: -1,
        // No stack captured per request: the control plane makes thousands a second (see docs/performance.md).
        noAsyncTraces: true,
        ...natsEnvAuth(),
      },
      envLoginRefused("control plane"),
    );
    const account = env("BERTH_ACCOUNT_ID", "000000000000");
    const auth = await apiAuthFromFile(
      v.credentials === undefined ? process.env.BERTH_CREDENTIALS_FILE : String(v.credentials),
      account,
      log,
    );
    const cp = await startControlPlane({
      nc,
      log,
      host: String(v.host ?? env("BERTH_HOST", "127.0.0.1")),
      port: Number(v.port ?? env("BERTH_PORT", "8417")),
      defaultRegion: String(v.region ?? env("BERTH_REGION", "us-east-1")),
      account,
      ...(auth ? { auth } : {}),
      replicas,
      lostAgentTimeoutMs:
        v["lost-agent-timeout"] === undefined ? DEFAULT_LOST_AGENT_TIMEOUT_MS : Number(v["lost-agent-timeout"]) * 1000,
      ...(heapGrowthPercent !== undefined ? { heapGrowthPercent } : {}),
      ...(noHealthCheckWait !== undefined ? { noHealthCheckWaitMs: noHealthCheckWait * 1000 } : {}),
    });
    if (replicas > 1 && !process.env.BERTH_SECRETS_KEY)
      log.warn(
        "BERTH_SECRETS_KEY is not set: this control plane keeps its own secrets master key, and a secret stored through another control plane of the cluster cannot be opened here. Give every control plane the same BERTH_SECRETS_KEY (berth nats-auth writes one into control-plane.env)",
      );
    console.log(`berth server: ECS API on ${cp.url}`);
    logMalloc(log);
    await untilSignal();
    log.info("stopping");
    await cp.stop();
    await nc.drain();
    return 0;
  },
};
