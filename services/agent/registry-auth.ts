import { readFile } from "node:fs/promises";
import type { RegistryCredentials } from "./docker/port.ts";

/**
 * Private registry credentials, from two places, as ECS's agent has them:
 *
 *  - the agent's own configuration (ECS_ENGINE_AUTH_TYPE / ECS_ENGINE_AUTH_DATA there):
 *    `berth agent --registry-auth FILE` or $BERTH_REGISTRY_AUTH_FILE, a JSON object of registry
 *    host → credentials, each either `{"username", "password"}` (ECS's "docker" type) or
 *    `{"auth": base64("user:password")}` (ECS's "dockercfg" type); Docker's own config.json
 *    (`{"auths": {…}}`) reads the same way;
 *  - the task definition: `repositoryCredentials.credentialsParameter` names a secret whose value
 *    is `{"username", "password"}` (secrets.ts fetches it). It wins over the agent's.
 *
 * Hosts are compared without scheme and path, case-insensitively; `docker.io`,
 * `index.docker.io`, `registry-1.docker.io` and `https://index.docker.io/v1/` all mean Docker Hub.
 * Errors name the registry or the secret, never a credential.
 */

export type RegistryAuthMap = ReadonlyMap<string, { username: string; password: string }>;

export class RegistryAuthError extends Error {
  override readonly name = "RegistryAuthError";
}

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
/** What Docker itself sends as Docker Hub's server address. */
const DOCKER_HUB_SERVER = "https://index.docker.io/v1/";

/** A registry key as written in a config (`https://host:port/v1/`) → `host:port`, Docker Hub → docker.io. */
export function normalizeRegistry(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .split("/")[0]
    ?.toLowerCase();
  return host && DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : (host ?? "");
}

/** The registry an image reference pulls from: its first path component when that is a host. */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  const isHost = first.includes(".") || first.includes(":") || first === "localhost";
  return isHost ? normalizeRegistry(first) : DOCKER_HUB;
}

function credentialsOf(entry: unknown, host: string): { username: string; password: string } {
  const e = (entry ?? {}) as { username?: unknown; password?: unknown; auth?: unknown };
  if (typeof e.username === "string" && typeof e.password === "string") return { username: e.username, password: e.password };
  if (typeof e.auth === "string") {
    const decoded = Buffer.from(e.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  throw new RegistryAuthError(`registry ${host}: give "username" and "password", or "auth" (base64 of user:password)`);
}

/** Parses the agent's registry auth file. */
export function parseRegistryAuth(text: string, source: string): RegistryAuthMap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new RegistryAuthError(`${source} is not JSON`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new RegistryAuthError(`${source} must be a JSON object of registry host → credentials`);
  const auths = (doc as { auths?: unknown }).auths;
  const entries = auths !== null && typeof auths === "object" ? auths : doc;
  const out = new Map<string, { username: string; password: string }>();
  for (const [key, entry] of Object.entries(entries as Record<string, unknown>)) {
    const host = normalizeRegistry(key);
    if (!host) throw new RegistryAuthError(`${source}: ${JSON.stringify(key)} is not a registry host`);
    out.set(host, credentialsOf(entry, host));
  }
  return out;
}

export async function loadRegistryAuth(file: string): Promise<RegistryAuthMap> {
  return parseRegistryAuth(await readFile(file, "utf8"), file);
}

/** The value of a `repositoryCredentials.credentialsParameter` secret → credentials. */
export function repositoryCredentials(value: string, credentialsParameter: string): { username: string; password: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    doc = undefined;
  }
  const d = (doc ?? {}) as { username?: unknown; password?: unknown };
  if (typeof d.username !== "string" || typeof d.password !== "string")
    throw new RegistryAuthError(`the secret ${credentialsParameter} must be JSON with "username" and "password"`);
  return { username: d.username, password: d.password };
}

/** Credentials for pulling `image`: the task's own when it has some, else the agent's for that registry. */
export function pullCredentials(
  image: string,
  configured: RegistryAuthMap,
  fromTask?: { username: string; password: string },
): RegistryCredentials | undefined {
  const registry = registryOf(image);
  const creds = fromTask ?? configured.get(registry);
  if (!creds) return undefined;
  return { ...creds, serveraddress: registry === DOCKER_HUB ? DOCKER_HUB_SERVER : registry };
}
