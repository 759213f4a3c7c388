import { join, relative, resolve } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type Agent, startAgent } from "../../agent/agent.ts";
import { loadRegistryAuth } from "../../agent/registry-auth.ts";
import { apiAuthFromFile } from "../../api/auth/authenticator.ts";
import { type ControlPlane, startControlPlane } from "../../control-plane/control-plane.ts";
import { clientAuth, ensureNatsUsers, natsEnvAuth, writeNatsServerConfig } from "../../security/nats-credentials.ts";
import { logMalloc } from "../allocator.ts";
import { type CommandSpec, env } from "../args.ts";
import { DEFAULT_ENDPOINT } from "../client.ts";
import { rootLogger } from "../logger.ts";
import { connectOrExplain, DEFAULT_NATS_URL, envLoginRefused } from "../nats-client.ts";
import { startEmbeddedNats } from "../nats-embed.ts";
import { untilSignal } from "../signals.ts";
import { taskCleanupWait } from "./agent.ts";

export const upCommand: CommandSpec = {
  name: "up",
  summary: "run all of Berth on this machine: NATS with JetStream, the control plane and an agent",
  usage: "berth up [--port N] [--data-dir DIR] [--nats-port N] [--region R] [--availability-zone AZ] [--no-agent]",
  options: {
    port: { type: "string" },
    "data-dir": { type: "string" },
    "nats-port": { type: "string" },
    region: { type: "string" },
    "availability-zone": { type: "string" },
    "no-agent": { type: "boolean" },
    credentials: { type: "string" },
    "allow-privileged": { type: "boolean" },
    "registry-auth": { type: "string" },
  },
  help: [
    ["--port N", "ECS API port on 127.0.0.1 (default $BERTH_PORT or 8417)"],
    ["--data-dir DIR", "NATS store and agent state (default $BERTH_DATA_DIR or ./.berth)"],
    ["--nats-port N", "port of the embedded nats-server (default $BERTH_NATS_PORT or 4222); ignored with $BERTH_NATS_URL"],
    ["--region R", "default region (default $BERTH_REGION or us-east-1)"],
    ["--availability-zone AZ", "the local agent's ecs.availability-zone (default $BERTH_AVAILABILITY_ZONE or <region>a)"],
    ["--no-agent", "do not run a local agent"],
    ["--credentials FILE", "access keys and policies the ECS API requires (default $BERTH_CREDENTIALS_FILE); without it the API is open"],
    ["--allow-privileged", "let the local agent run privileged containers (host networking and host bind mounts are allowed)"],
    ["--registry-auth FILE", "private registry credentials for the local agent (default $BERTH_REGISTRY_AUTH_FILE); see berth agent --help"],
    ["", "Secrets (berth secret) are encrypted under $BERTH_SECRETS_KEY, else under DIR/secrets.key, created on first use."],
  ],
  async run(v) {
    const log = rootLogger("berth");
    const dataDir = resolve(String(v["data-dir"] ?? env("BERTH_DATA_DIR", ".berth")));
    const region = String(v.region ?? env("BERTH_REGION", "us-east-1"));
    // As on EC2, the instance is in a zone, so AZ-spread placement and a task's availabilityZone work.
    const availabilityZone = String(v["availability-zone"] ?? env("BERTH_AVAILABILITY_ZONE", `${region}a`));
    const authFile = v["registry-auth"] === undefined ? process.env.BERTH_REGISTRY_AUTH_FILE : String(v["registry-auth"]);
    const registryAuth = authFile ? await loadRegistryAuth(authFile) : undefined;
    const cleanupWait = taskCleanupWait();
    const external = process.env.BERTH_NATS_URL;
    const account = env("BERTH_ACCOUNT_ID", "000000000000");
    const auth = await apiAuthFromFile(
      v.credentials === undefined ? process.env.BERTH_CREDENTIALS_FILE : String(v.credentials),
      account,
      log,
    );
    // The embedded nats-server requires a user per role; the local agent gets its own, bound to its instance.
    const agentSpec = { name: "default", region, cluster: "default", stateDir: join(dataDir, "agent") };
    const users = external ? undefined : await ensureNatsUsers(dataDir, v["no-agent"] ? [] : [agentSpec]);
    const nats = users
      ? await startEmbeddedNats(dataDir, Number(v["nats-port"] ?? env("BERTH_NATS_PORT", "4222")), log.child({ component: "nats" }), {
          configFile: await writeNatsServerConfig(dataDir, users),
          user: users.controlPlane.user,
          pass: users.controlPlane.password,
        })
      : undefined;
    const natsUrl = external ?? (nats as { url: string }).url;
    const agentUser = users?.agents[agentSpec.name];
    const apiPort = Number(v.port ?? env("BERTH_PORT", "8417"));
    let nc: NatsConnection | undefined;
    let agentNc: NatsConnection | undefined;
    let cp: ControlPlane | undefined;
    let agent: Agent | undefined;
    try {
      nc = await connectOrExplain(
        {
          servers: natsUrl.split(","),
          name: "berth-up",
          maxReconnectAttempts: -1,
          // No stack captured per request: the control plane makes thousands a second (see docs/performance.md).
          noAsyncTraces: true,
          ...(users ? clientAuth(users.controlPlane) : natsEnvAuth()),
        },
        envLoginRefused("control plane"),
      );
      agentNc = agentUser
        ? await connect({ servers: natsUrl.split(","), name: "berth-agent", maxReconnectAttempts: -1, ...clientAuth(agentUser) })
        : nc;
      cp = await startControlPlane({
        nc,
        log,
        port: apiPort,
        defaultRegion: region,
        account,
        ...(auth ? { auth } : {}),
        secrets: { keyFile: join(dataDir, "secrets.key") },
      });
      agent = v["no-agent"]
        ? undefined
        : await startAgent({
            nc: agentNc,
            log,
            region,
            cluster: "default",
            availabilityZone,
            dataDir: join(dataDir, "agent"),
            capacity: ["EC2", "FARGATE"],
            // One machine, one user: local development needs the host's network and files (compose
            // bind mounts, network_mode: host); privileged containers stay opt-in.
            allowHostNetwork: true,
            allowHostMounts: true,
            allowPrivileged: Boolean(v["allow-privileged"]),
            ...(registryAuth ? { registryAuth } : {}),
            ...(cleanupWait !== undefined ? { taskCleanupWaitMs: cleanupWait } : {}),
          });
    } catch (err) {
      // Nothing started is left behind: the embedded nats-server would outlive this process.
      await agent?.stop().catch(() => {});
      await cp?.stop().catch(() => {});
      if (agentNc && agentNc !== nc) await agentNc.close().catch(() => {});
      await nc?.close().catch(() => {});
      await nats?.stop();
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
        throw new Error(`port ${apiPort} is taken: set --port or BERTH_PORT (another Berth may be running)`);
      throw err;
    }
    console.log(
      [
        "",
        `Berth is up. ECS API: ${cp.url}   NATS: ${natsUrl}`,
        agent ? `Local agent: ${agent.containerInstanceArn}` : "No local agent.",
        "",
        ...(auth
          ? ["Use it with the AWS CLI and an access key from the credentials file:"]
          : [
              "Use it with the AWS CLI (any credentials work in open development mode):",
              `  export AWS_ACCESS_KEY_ID=berth AWS_SECRET_ACCESS_KEY=berth AWS_DEFAULT_REGION=${region}`,
            ]),
        `  aws ecs list-clusters --endpoint-url ${cp.url}`,
        ...(cp.url === DEFAULT_ENDPOINT ? [] : ["", `For the berth commands:  export BERTH_ENDPOINT=${cp.url}`]),
        "",
        `Follow the event log:  npx berth events --follow${followFlags(natsUrl, dataDir)}`,
        "Ctrl-C stops Berth; running containers keep running and are picked up on the next start.",
        "",
      ].join("\n"),
    );
    logMalloc(log);
    await untilSignal();
    log.info("stopping");
    await agent?.stop();
    await cp.stop();
    if (agentNc !== nc) await agentNc.drain();
    await nc.drain();
    await nats?.stop();
    return 0;
  },
};

/** What `berth events` needs told to find this Berth: nothing when it runs where the defaults look. */
function followFlags(natsUrl: string, dataDir: string): string {
  const nats = natsUrl === DEFAULT_NATS_URL ? "" : ` --nats ${natsUrl}`;
  const dir = dataDir === resolve(".berth") ? "" : ` --data-dir ${relative(process.cwd(), dataDir) || "."}`;
  return nats + dir;
}
