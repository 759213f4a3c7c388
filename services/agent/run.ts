/**
 * Minimal entry point of a standalone agent process (used by tests that kill the agent with
 * SIGKILL, and handy for running an agent without the CLI). Configuration from the environment:
 *
 *   BERTH_NATS_URL (nats://127.0.0.1:4222) BERTH_REGION (us-east-1) BERTH_CLUSTER (default)
 *   BERTH_DATA_DIR (./.berth) BERTH_AGENT_NAME (default) BERTH_CONTAINER_STOP_TIMEOUT (30)
 *   BERTH_HEARTBEAT_MS (5000) BERTH_IMAGE_PULL_BEHAVIOR (default) BERTH_ALLOW_PRIVILEGED (false)
 *   BERTH_ALLOW_HOST_NETWORK (false) BERTH_ALLOW_HOST_MOUNTS (false) BERTH_REGISTRY_AUTH_FILE (none)
 *   BERTH_PAUSE_IMAGE (berth/pause:1) BERTH_PAUSE_COMMAND (JSON array, e.g. ["sleep","2147483647"])
 *   BERTH_STATS_MS (30000; 0 disables) BERTH_LOG_LEVEL (info) BERTH_TASK_CLEANUP_WAIT (3h; 0s removes at once)
 *
 *   node --import tsx services/agent/run.ts
 */
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { DEREGISTERED_EXIT_STATUS, startAgent } from "./agent.ts";
import { taskCleanupWaitFromEnv } from "./durations.ts";
import type { ImagePullBehavior } from "./images.ts";
import { loadRegistryAuth } from "./registry-auth.ts";

const env = (k: string, d: string) => process.env[k] ?? d;
const cleanupWait = taskCleanupWaitFromEnv(process.env);
if (cleanupWait.bad !== undefined) throw new Error(`BERTH_TASK_CLEANUP_WAIT: not a duration: ${cleanupWait.bad}`);
const logger = pino({ level: env("BERTH_LOG_LEVEL", "info"), base: { name: "berth-agent" } });
const nc = await connect({
  servers: env("BERTH_NATS_URL", "nats://127.0.0.1:4222").split(","),
  name: "berth-agent",
  maxReconnectAttempts: -1,
});
const agent = await startAgent({
  nc,
  logger,
  region: env("BERTH_REGION", "us-east-1"),
  cluster: env("BERTH_CLUSTER", "default"),
  dataDir: env("BERTH_DATA_DIR", join(process.cwd(), ".berth")),
  name: env("BERTH_AGENT_NAME", "default"),
  stopTimeoutSeconds: Number(env("BERTH_CONTAINER_STOP_TIMEOUT", "30")),
  heartbeatIntervalMs: Number(env("BERTH_HEARTBEAT_MS", "5000")),
  imagePullBehavior: env("BERTH_IMAGE_PULL_BEHAVIOR", "default") as ImagePullBehavior,
  allowPrivileged: env("BERTH_ALLOW_PRIVILEGED", "false") === "true",
  allowHostNetwork: env("BERTH_ALLOW_HOST_NETWORK", "false") === "true",
  allowHostMounts: env("BERTH_ALLOW_HOST_MOUNTS", "false") === "true",
  ...(process.env.BERTH_REGISTRY_AUTH_FILE ? { registryAuth: await loadRegistryAuth(process.env.BERTH_REGISTRY_AUTH_FILE) } : {}),
  statsIntervalMs: Number(env("BERTH_STATS_MS", "30000")),
  ...(cleanupWait.ms !== undefined ? { taskCleanupWaitMs: cleanupWait.ms } : {}),
  ...(process.env.BERTH_PAUSE_IMAGE
    ? {
        pauseContainer: {
          image: process.env.BERTH_PAUSE_IMAGE,
          ...(process.env.BERTH_PAUSE_COMMAND
            ? { command: JSON.parse(process.env.BERTH_PAUSE_COMMAND) as string[] }
            : {}),
        },
      }
    : {}),
});
logger.info({ containerInstanceArn: agent.containerInstanceArn, instanceId: agent.instanceId }, "agent running");

void agent.deregistered.then(async () => {
  await nc.drain();
  process.exit(DEREGISTERED_EXIT_STATUS);
});

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void agent
      .stop()
      .then(() => nc.drain())
      .finally(() => process.exit(0));
  });
}
