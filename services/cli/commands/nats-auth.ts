import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import {
  clientAuth,
  ensureNatsUsers,
  type NatsUser,
  readNatsUsers,
  usersFile,
  writeAuthorization,
  writePrivate,
} from "../../security/nats-credentials.ts";
import { KEY_BYTES } from "../../security/sealed.ts";
import { type CommandSpec, env, UsageError } from "../args.ts";

/**
 * `berth nats-auth`: the NATS users and permissions `berth up` gives its own nats-server, for a
 * NATS run by hand on several machines. It writes, into one directory:
 *
 *   security/nats-users.json    every user's password (0600); kept and added to on the next run
 *   nats-auth.conf              the nats-server `authorization` block (0600), the same on every server
 *   control-plane.env           BERTH_NATS_USER / BERTH_NATS_PASSWORD (and BERTH_NATS_URL, given
 *                               --nats) for `berth server`, with what all control planes share:
 *                               BERTH_SECRETS_KEY, and BERTH_REPLICAS=3 for three or more servers
 *   reader.env                  the same for `berth events`, `berth state` and integrations
 *   agents/<name>/              one per Docker host: the agent's data directory, holding the
 *                               instance id its user is bound to, and its nats.env (which also
 *                               names its cluster and region)
 *
 * An agent's permissions name its instance id (services/security/nats-permissions.ts), so the id
 * is minted here and travels to the host in the agent's data directory.
 */

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const CLUSTER = /^[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z0-9-]{1,64}$/;

function agentNames(value: unknown): string[] {
  if (value === undefined) throw new UsageError("--agents is required: the names of the Docker hosts' agents, comma-separated");
  const names = String(value)
    .split(",")
    .map((n) => n.trim());
  for (const n of names)
    if (!NAME.test(n))
      throw new UsageError(`agent name ${JSON.stringify(n)}: use 1–64 letters, digits, hyphens and underscores`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UsageError(`agent name ${twice} is given twice`);
  return names;
}

/** KEY=value lines; an agent's also name the cluster and region its login is for. */
function envFile(
  u: NatsUser & { cluster?: string; region?: string },
  natsUrl: string | undefined,
  more: Record<string, string | undefined> = {},
): string {
  const a = clientAuth(u);
  const lines = [
    ...(natsUrl ? [`BERTH_NATS_URL=${natsUrl}`] : []),
    `BERTH_NATS_USER=${a.user}`,
    `BERTH_NATS_PASSWORD=${a.pass}`,
    ...(u.cluster ? [`BERTH_CLUSTER=${u.cluster}`] : []),
    ...(u.region ? [`BERTH_REGION=${u.region}`] : []),
    ...Object.entries(more).flatMap(([k, value]) => (value === undefined ? [] : [`${k}=${value}`])),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * What every control plane of the cluster needs besides its login: stream replicas to match three
 * or more NATS servers, and one secrets master key (each would otherwise make its own, and a
 * secret stored through one could not be opened by another). The key an earlier run wrote is kept.
 */
function controlPlaneSettings(natsUrl: string | undefined, envPath: string): Record<string, string | undefined> {
  const servers = natsUrl?.split(",").length ?? 1;
  return {
    BERTH_REPLICAS: servers >= 3 ? "3" : undefined,
    BERTH_SECRETS_KEY: previousSetting(envPath, "BERTH_SECRETS_KEY") ?? randomBytes(KEY_BYTES).toString("base64"),
  };
}

/** `nats://n1:4222,nats://n2:4222`: NATS URLs, comma-separated, nothing a shell would expand. */
function natsUrls(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const urls = String(value).split(",").map((u) => u.trim());
  for (const u of urls)
    if (!/^(nats|tls):\/\/[A-Za-z0-9.:[\]_-]+$/.test(u))
      throw new UsageError(`--nats: ${JSON.stringify(u)} is not a NATS server URL (nats://HOST:PORT, comma-separated)`);
  return urls.join(",");
}

/** A setting an earlier run wrote into an env file. */
function previousSetting(envPath: string, key: string): string | undefined {
  if (!existsSync(envPath)) return undefined;
  return new RegExp(`^${key}=(.+)$`, "m").exec(readFileSync(envPath, "utf8"))?.[1];
}

export const natsAuthCommand: CommandSpec = {
  name: "nats-auth",
  summary: "write NATS users and permissions for Berth on several machines: nats-server's authorization file and each process's login",
  usage: "berth nats-auth --agents NAME,… [--cluster NAME] [--region R] [--nats URL,…] [--out DIR]",
  options: {
    agents: { type: "string" },
    nats: { type: "string" },
    cluster: { type: "string" },
    region: { type: "string" },
    out: { type: "string" },
  },
  help: [
    ["--agents NAME,…", "one name per Docker host's agent (its user is berth-agent-NAME, from which the agent takes its name); names already in DIR are kept"],
    ["--cluster NAME", "the cluster these agents join (default: an agent's from an earlier run, else the one all earlier agents share, else $BERTH_CLUSTER or default)"],
    ["--region R", "the region of that cluster (default likewise, else $BERTH_REGION or us-east-1)"],
    ["--nats URL,…", "the NATS servers, written into every env file as BERTH_NATS_URL (e.g. nats://n1:4222,nats://n2:4222,nats://n3:4222)"],
    ["--out DIR", "where to write, and where an earlier run's users are read from (default ./berth-nats)"],
  ],
  examples: [
    "berth nats-auth --agents host1,host2,host3 --cluster prod --nats nats://n1:4222,nats://n2:4222,nats://n3:4222",
    "berth nats-auth --agents host4        # a fourth host later, in the same cluster: the others keep their logins",
  ],
  async run(v) {
    const names = agentNames(v.agents);
    const out = resolve(String(v.out ?? "berth-nats"));
    // Not given: an agent keeps the cluster and region an earlier run gave it (naming it again must
    // not move a running host), and a new one joins those every earlier agent shares.
    const earlier = readNatsUsers(out)?.agents ?? {};
    const shared = (key: "cluster" | "region") => {
      const values = new Set(Object.values(earlier).map((a) => a[key]));
      return values.size === 1 ? [...values][0] : undefined;
    };
    const clusterOf = (name: string) =>
      String(v.cluster ?? earlier[name]?.cluster ?? shared("cluster") ?? env("BERTH_CLUSTER", "default"));
    const regionOf = (name: string) =>
      String(v.region ?? earlier[name]?.region ?? shared("region") ?? env("BERTH_REGION", "us-east-1"));
    for (const name of names) {
      const cluster = clusterOf(name);
      const region = regionOf(name);
      if (!CLUSTER.test(cluster)) throw new UsageError(`cluster name ${JSON.stringify(cluster)}: use 1–255 letters, digits, hyphens and underscores`);
      if (!REGION.test(region)) throw new UsageError(`region ${JSON.stringify(region)}: lowercase letters, digits and hyphens, e.g. us-east-1`);
    }
    // Not given again: the servers an earlier run wrote stay in the env files.
    const controlPlaneEnv = join(out, "control-plane.env");
    const natsUrl = natsUrls(v.nats) ?? previousSetting(controlPlaneEnv, "BERTH_NATS_URL");
    const agentDir = (name: string) => join(out, "agents", name);

    const users = await ensureNatsUsers(
      out,
      names.map((name) => ({ name, region: regionOf(name), cluster: clusterOf(name), stateDir: agentDir(name) })),
    );
    const conf = join(out, "nats-auth.conf");
    await writeAuthorization(conf, users, "# Written by `berth nats-auth` from security/nats-users.json; give every nats-server the same file.\n");
    await writePrivate(controlPlaneEnv, envFile(users.controlPlane, natsUrl, controlPlaneSettings(natsUrl, controlPlaneEnv)));
    await writePrivate(join(out, "reader.env"), envFile(users.reader, natsUrl));
    for (const [name, agent] of Object.entries(users.agents))
      await writePrivate(join(agentDir(name), "nats.env"), envFile(agent, natsUrl));

    const rel = (p: string) => relative(process.cwd(), p) || ".";
    const row = (what: string, ...how: string[]) => how.map((h, i) => `  ${(i === 0 ? what : "").padEnd(22)}  ${h}`);
    const nats = natsUrl ? "" : " --nats …";
    const lines = [
      `NATS users written to ${rel(out)}: keep it private, it holds every password (${rel(usersFile(out))}).`,
      "",
      ...row(
        "each nats-server",
        `its configuration file includes ${rel(conf)} (include ./nats-auth.conf, the file beside it);`,
        "after a run that changed it, copy it to every server again and reload each: nats-server --signal reload",
      ),
      ...row(
        "berth server",
        `set -a; . ${rel(controlPlaneEnv)}; set +a; berth server${nats}`,
        "(the file also holds the stream replicas and the secrets master key every control plane shares)",
      ),
      ...row("readers", `${rel(join(out, "reader.env"))}, inbox prefix _INBOX_${users.reader.user} (berth events reads it from the environment)`),
      ...Object.entries(users.agents).flatMap(([name, a]) =>
        row(
          `agent ${name}`,
          `copy ${rel(agentDir(name))} to its Docker host as /var/lib/berth (instance ${a.instanceId}), there:`,
          `set -a; . /var/lib/berth/nats.env; set +a   (user, cluster ${a.cluster}, region ${a.region})`,
          `berth agent --data-dir /var/lib/berth${nats}   (its name, ${name}, from the user)`,
        ),
      ),
    ];
    console.log(lines.join("\n"));
    return 0;
  },
};
