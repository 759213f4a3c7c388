import { join } from "node:path";
import { DEREGISTERED_EXIT_STATUS, startAgent } from "../../agent/agent.ts";
import { taskCleanupWaitFromEnv } from "../../agent/durations.ts";
import { loadRegistryAuth } from "../../agent/registry-auth.ts";
import { agentNameOfUser, natsEnvAuth } from "../../security/nats-credentials.ts";
import { type CommandSpec, env, UsageError } from "../args.ts";
import { rootLogger } from "../logger.ts";
import { connectOrExplain, envLoginRefused, natsServers } from "../nats-client.ts";
import { untilSignal } from "../signals.ts";

export const agentCommand: CommandSpec = {
  name: "agent",
  summary: "run the container agent for this Docker host",
  usage:
    "berth agent [--nats URL] [--cluster NAME] [--region R] [--data-dir DIR] [--name NAME] [--availability-zone AZ] [--fargate] [--allow-…] [--registry-auth FILE]",
  options: {
    nats: { type: "string" },
    cluster: { type: "string" },
    "data-dir": { type: "string" },
    region: { type: "string" },
    name: { type: "string" },
    "availability-zone": { type: "string" },
    fargate: { type: "boolean" },
    "allow-privileged": { type: "boolean" },
    "allow-host-network": { type: "boolean" },
    "allow-host-mounts": { type: "boolean" },
    "registry-auth": { type: "string" },
  },
  help: [
    ["--nats URL", "NATS server(s) (default $BERTH_NATS_URL or nats://127.0.0.1:4222)"],
    ["--cluster NAME", "cluster to join; it must exist, except `default` (default $BERTH_CLUSTER or default)"],
    ["--data-dir DIR", "where the agent keeps its state (default $BERTH_DATA_DIR or ./.berth)"],
    ["--region R", "region of the cluster (default $BERTH_REGION or us-east-1)"],
    ["--name NAME", "distinguishes several agents on one Docker engine (default: NAME of a BERTH_NATS_USER berth-agent-NAME, else default)"],
    ["--availability-zone AZ", "value of the ecs.availability-zone attribute (default $BERTH_AVAILABILITY_ZONE; none without it)"],
    ["--fargate", "also offer FARGATE capacity (tasks run in their own network namespace)"],
    ["--allow-privileged", "run privileged containers (default: refused; $BERTH_ALLOW_PRIVILEGED=true)"],
    ["--allow-host-network", "run tasks in the host network mode (default: refused; $BERTH_ALLOW_HOST_NETWORK=true)"],
    ["--allow-host-mounts", "run tasks that bind-mount host paths (default: refused; $BERTH_ALLOW_HOST_MOUNTS=true)"],
    [
      "--registry-auth FILE",
      'private registry credentials, JSON {"host[:port]": {"username", "password"}} (default $BERTH_REGISTRY_AUTH_FILE)',
    ],
    ["", "Environment: BERTH_CONTAINER_STOP_TIMEOUT (seconds, default 30) for containers without stopTimeout."],
    ["", "BERTH_NATS_USER and BERTH_NATS_PASSWORD: the agent's NATS user, when NATS requires one."],
    ["", "When its container instance is deregistered, the agent stops its tasks and exits with status 5 (ECS's agent's terminal status)."],
    ["", "BERTH_IMAGE_PULL_BEHAVIOR (ECS_IMAGE_PULL_BEHAVIOR): default, always, once or prefer-cached."],
    ["", "BERTH_TASK_CLEANUP_WAIT (ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION): how long a stopped task's containers, and so its output, stay (default 3h)."],
  ],
  async run(v) {
    const log = rootLogger("berth-agent");
    const flag = (name: string, envName: string) => Boolean(v[name]) || env(envName, "false") === "true";
    const authFile =
      v["registry-auth"] === undefined ? process.env.BERTH_REGISTRY_AUTH_FILE : String(v["registry-auth"]);
    const registryAuth = authFile ? await loadRegistryAuth(authFile) : undefined;
    const nc = await connectOrExplain(
      {
        servers: natsServers(v),
        name: "berth-agent",
        maxReconnectAttempts: -1,
        ...natsEnvAuth(),
      },
      envLoginRefused("agent"),
    );
    const agent = await startAgent({
      nc,
      log,
      region: String(v.region ?? env("BERTH_REGION", "us-east-1")),
      cluster: String(v.cluster ?? env("BERTH_CLUSTER", "default")),
      dataDir: String(v["data-dir"] ?? env("BERTH_DATA_DIR", join(process.cwd(), ".berth"))),
      // An agent's own NATS user (berth up, berth nats-auth) is bound to the name it was made for.
      name: v.name ? String(v.name) : agentNameOfUser(process.env.BERTH_NATS_USER),
      availabilityZone: String(v["availability-zone"] ?? env("BERTH_AVAILABILITY_ZONE", "")) || undefined,
      capacity: v.fargate ? ["EC2", "FARGATE"] : ["EC2"],
      // Default stop timeout for containers without stopTimeout (ECS_CONTAINER_STOP_TIMEOUT in ECS's agent).
      stopTimeoutSeconds: Number(env("BERTH_CONTAINER_STOP_TIMEOUT", "30")),
      // Each of these gives a task the host itself; off unless the operator allows it.
      allowPrivileged: flag("allow-privileged", "BERTH_ALLOW_PRIVILEGED"),
      allowHostNetwork: flag("allow-host-network", "BERTH_ALLOW_HOST_NETWORK"),
      allowHostMounts: flag("allow-host-mounts", "BERTH_ALLOW_HOST_MOUNTS"),
      ...(registryAuth ? { registryAuth } : {}),
      imagePullBehavior: pullBehavior(env("BERTH_IMAGE_PULL_BEHAVIOR", "default")),
      taskCleanupWaitMs: taskCleanupWait(),
    });
    console.log(`berth agent: container instance ${agent.containerInstanceArn}`);
    const ended = await Promise.race([untilSignal(), agent.deregistered]);
    if (typeof ended === "object") {
      await nc.drain();
      console.error(
        `berth agent: container instance ${agent.containerInstanceArn} was deregistered; its tasks were stopped and the agent exits (status ${DEREGISTERED_EXIT_STATUS}, after which a supervisor should not restart it)`,
      );
      return DEREGISTERED_EXIT_STATUS;
    }
    log.info("stopping; running tasks keep running");
    await agent.stop();
    await nc.drain();
    return 0;
  },
};

const PULL_BEHAVIORS = ["default", "always", "once", "prefer-cached"] as const;

function pullBehavior(value: string): (typeof PULL_BEHAVIORS)[number] {
  const known = PULL_BEHAVIORS.find((b) => b === value);
  if (!known)
    throw new UsageError(
      `BERTH_IMAGE_PULL_BEHAVIOR must be one of ${PULL_BEHAVIORS.join(", ")} (got ${JSON.stringify(value)})`,
    );
  return known;
}

/** BERTH_TASK_CLEANUP_WAIT, or ECS's agent's ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION; undefined: the default. */
export function taskCleanupWait(): number | undefined {
  const { ms, bad } = taskCleanupWaitFromEnv(process.env);
  if (bad !== undefined)
    throw new UsageError(`BERTH_TASK_CLEANUP_WAIT takes a duration such as 3h, 1h30m, 90s or 0s (got ${JSON.stringify(bad)})`);
  return ms;
}
