import { randomBytes } from "node:crypto";
import Docker from "dockerode";

/** The local test image that `scripts/setup.sh test` builds from Debian's busybox-static. */
export const TEST_IMAGE = "berth-test/busybox:latest";

let client: Docker | undefined;

/** One dockerode client per test process, on the default socket (or DOCKER_HOST). */
export function dockerClient(): Docker {
  client ??= new Docker();
  return client;
}

/**
 * A name no other test run will use: `<prefix>-<time>-<random>`, lower case and valid for
 * containers, networks, clusters and labels alike.
 */
export function uniqueName(prefix: string): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  return `${safe}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

function assertSelector(label: string, value: string): void {
  // An empty label or value would widen the filter past this test's own resources.
  if (label.trim() === "" || value.trim() === "") {
    throw new Error(`refusing to remove Docker resources by an empty label or value (${label}=${value})`);
  }
}

function statusOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err ? Number(err.statusCode) : undefined;
}

/**
 * Force-removes every container (running or not, with its anonymous volumes) whose label
 * `label` is exactly `value`, and nothing else. Returns how many were removed.
 */
export async function removeContainersByLabel(label: string, value: string): Promise<number> {
  assertSelector(label, value);
  const docker = dockerClient();
  const found = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  let removed = 0;
  for (const info of found) {
    if (info.Labels?.[label] !== value) continue; // belt and braces: never trust the filter alone
    try {
      await docker.getContainer(info.Id).remove({ force: true, v: true });
      removed++;
    } catch (err) {
      // 404: already gone; 409: removal already in progress.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
    }
  }
  return removed;
}

/**
 * Removes every network whose label `label` is exactly `value`, and nothing else. Remove the
 * containers attached to it first. Returns how many were removed.
 */
export async function removeNetworksByLabel(label: string, value: string): Promise<number> {
  assertSelector(label, value);
  const docker = dockerClient();
  const found = await docker.listNetworks({ filters: { label: [`${label}=${value}`] } });
  let removed = 0;
  for (const info of found) {
    if (info.Labels?.[label] !== value) continue;
    try {
      await docker.getNetwork(info.Id).remove();
      removed++;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
  return removed;
}
