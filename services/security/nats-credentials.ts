import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { z } from "zod";
import { inboxPrefix } from "../../events/names.ts";
import { AgentStateStore } from "../agent/state.ts";
import {
  agentPermissions,
  authorizationConfig,
  type ConfigUser,
  controlPlanePermissions,
  readerPermissions,
} from "./nats-permissions.ts";

/**
 * The NATS users of a `berth up` installation, kept in `<dataDir>/security/nats-users.json`
 * (mode 0600, created on first start, reused after), and the nats-server configuration made from
 * them on every start:
 *
 *   berth-control-plane      everything
 *   berth-agent-<name>       one per agent, bound to the instance id it registers with
 *   berth-reader             reads events (`berth events`, integrations)
 *
 * Agent identity: permissions are static in the server configuration, so the instance id an agent
 * may publish and consume for is fixed when its user is minted. The agent mints its instance id
 * before it first registers and keeps it in its state file; minting the user reads that file, or
 * writes a new id into it when there is none, so the agent registers exactly the id its user is
 * allowed to speak for.
 */

export interface NatsUser {
  user: string;
  password: string;
  /** bcrypt of the password, for the server's configuration (see the users file below). */
  passwordHash?: string;
}

export interface AgentUser extends NatsUser {
  region: string;
  cluster: string;
  instanceId: string;
}

const User = z.object({
  user: z.string(),
  password: z.string().min(16),
  /**
   * The password's bcrypt hash, what the nats-server configuration holds: made with the password
   * and kept (hashing takes a good part of a second), so one who changes a password by hand
   * removes its hash too.
   */
  passwordHash: z.string().optional(),
});
const NatsUsersFile = z.object({
  controlPlane: User,
  reader: User,
  agents: z.record(z.string(), User.extend({ region: z.string(), cluster: z.string(), instanceId: z.string() })),
});
export type NatsUsers = z.infer<typeof NatsUsersFile>;

export const securityDir = (dataDir: string) => join(dataDir, "security");
/** Where `berth up` keeps the NATS users of a data directory. */
export const usersFile = (dataDir: string) => join(securityDir(dataDir), "nats-users.json");

/** 192 random bits, URL-safe: no quoting trouble in a configuration file or a URL. */
const password = () => randomBytes(24).toString("base64url");

/** bcrypt's cost for the hashes nats-server checks a password against (that of `nats server passwd`). */
const BCRYPT_COST = 11;

/** The user with the bcrypt hash of its password, made now if it has none. */
function hashed<U extends NatsUser>(u: U): U {
  return u.passwordHash ? u : { ...u, passwordHash: bcrypt.hashSync(u.password, BCRYPT_COST) };
}

/** Writes `text` to `path` readable by its owner only (0600), whole or not at all (a rename). */
export async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

const AGENT_USER_PREFIX = "berth-agent-";
/** The NATS user of the agent named `name`. */
export const agentUserName = (name: string) => `${AGENT_USER_PREFIX}${name}`;
/** The agent name a NATS user was made for (`berth-agent-<name>`), if it is an agent's. */
export const agentNameOfUser = (user: string | undefined) =>
  user?.startsWith(AGENT_USER_PREFIX) && user.length > AGENT_USER_PREFIX.length ? user.slice(AGENT_USER_PREFIX.length) : undefined;

export interface AgentSpec {
  /** Agent name (its state file is `agent-<name>.json` in `stateDir`). */
  name: string;
  region: string;
  cluster: string;
  /** The agent's data directory. */
  stateDir: string;
}

/**
 * The instance id the agent will register with: the one in its state file when that file is for
 * the same region and cluster (the agent reuses it), else a new one written there.
 */
async function agentInstanceId(a: AgentSpec): Promise<string> {
  const store = new AgentStateStore(a.stateDir, a.name);
  const saved = await store.loadInstance();
  if (saved && saved.region === a.region && saved.cluster === a.cluster) return saved.instanceId;
  const instanceId = randomUUID().replaceAll("-", "");
  await mkdir(a.stateDir, { recursive: true });
  await store.saveInstance({ region: a.region, cluster: a.cluster, instanceId });
  return instanceId;
}

/** Loads the installation's NATS users, creating missing ones (and the file) as needed. */
export async function ensureNatsUsers(dataDir: string, agents: readonly AgentSpec[]): Promise<NatsUsers> {
  await mkdir(securityDir(dataDir), { recursive: true, mode: 0o700 });
  const path = usersFile(dataDir);
  let users: NatsUsers | undefined;
  if (existsSync(path)) {
    const parsed = NatsUsersFile.safeParse(JSON.parse(await readFile(path, "utf8")));
    if (parsed.success) users = parsed.data;
  }
  // A copy: what changed is compared with what was read, to write the file only then.
  const next: NatsUsers = users ? structuredClone(users) : {
    controlPlane: { user: "berth-control-plane", password: password() },
    reader: { user: "berth-reader", password: password() },
    agents: {},
  };
  for (const a of agents) {
    const instanceId = await agentInstanceId(a);
    const known = next.agents[a.name];
    next.agents[a.name] = {
      user: agentUserName(a.name),
      password: known?.password ?? password(),
      ...(known?.passwordHash ? { passwordHash: known.passwordHash } : {}),
      region: a.region,
      cluster: a.cluster,
      instanceId,
    };
  }
  next.controlPlane = hashed(next.controlPlane);
  next.reader = hashed(next.reader);
  for (const [name, a] of Object.entries(next.agents)) next.agents[name] = hashed(a);
  const text = `${JSON.stringify(next, null, 2)}\n`;
  if (!users || JSON.stringify(users, null, 2) !== JSON.stringify(next, null, 2)) await writePrivate(path, text);
  return next;
}

/**
 * The users with their permissions, as the server configuration lists them: with bcrypt hashes of
 * their passwords, so the file every nats-server holds gives no one a login.
 */
export function configUsers(users: NatsUsers): ConfigUser[] {
  const secret = (u: NatsUser) => ({ user: u.user, password: hashed(u).passwordHash as string });
  return [
    { ...secret(users.controlPlane), permissions: controlPlanePermissions() },
    { ...secret(users.reader), permissions: readerPermissions(users.reader.user) },
    ...Object.values(users.agents).map((a) => ({
      ...secret(a),
      permissions: agentPermissions(a.user, { region: a.region, instanceId: a.instanceId }),
    })),
  ];
}

/** Writes the nats-server `authorization` block of these users to `path` (0600). */
export async function writeAuthorization(path: string, users: NatsUsers, header: string): Promise<void> {
  await writePrivate(path, header + authorizationConfig(configUsers(users)));
}

/** Writes `<dataDir>/security/nats-server.conf` (0600) and returns its path. */
export async function writeNatsServerConfig(dataDir: string, users: NatsUsers): Promise<string> {
  const path = join(securityDir(dataDir), "nats-server.conf");
  await writeAuthorization(path, users, "# Written by `berth up` on every start from nats-users.json; edits here are replaced.\n");
  return path;
}

/** Connection options of one NATS user: credentials and the inbox prefix its permissions allow. */
export function clientAuth(u: NatsUser): { user: string; pass: string; inboxPrefix: string } {
  return { user: u.user, pass: u.password, inboxPrefix: inboxPrefix(u.user) };
}

type ClientAuth = { user: string; pass: string; inboxPrefix: string } | Record<string, never>;

/** Credentials from $BERTH_NATS_USER / $BERTH_NATS_PASSWORD, for a NATS that requires them; else none. */
export function natsEnvAuth(): ClientAuth {
  const user = process.env.BERTH_NATS_USER;
  return user ? clientAuth({ user, password: process.env.BERTH_NATS_PASSWORD ?? "" }) : {};
}

/**
 * Credentials of a reader of the event log: from the environment when set, else the reader user
 * of a local `berth up` whose data directory is `dataDir`, else none.
 */
export function readerAuth(dataDir: string): ClientAuth {
  return localAuth(dataDir, (users) => users.reader);
}

/**
 * Credentials that may do everything (`berth sim` speaks for thousands of instances, which no
 * agent user may): from the environment when set, else the control plane user of a local
 * `berth up` whose data directory is `dataDir`, else none.
 */
export function controlPlaneAuth(dataDir: string): ClientAuth {
  return localAuth(dataDir, (users) => users.controlPlane);
}

/** The users kept in `dataDir`, if there is a readable file of them. */
export function readNatsUsers(dataDir: string): NatsUsers | undefined {
  const path = usersFile(dataDir);
  if (!existsSync(path)) return undefined;
  const parsed = NatsUsersFile.safeParse(JSON.parse(readFileSync(path, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

function localAuth(dataDir: string, pick: (users: NatsUsers) => NatsUser): ClientAuth {
  if (process.env.BERTH_NATS_USER) return natsEnvAuth();
  const users = readNatsUsers(dataDir);
  return users ? clientAuth(pick(users)) : {};
}
