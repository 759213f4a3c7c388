// The console talks to Berth only through the ECS API (awsJson1_1 on POST /), like any ECS client.

import { AUTH_ERRORS, credentials, signIn } from "./auth.js";
import { sign } from "./sigv4.js";

const TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";

/** An ECS error answer: `code` is ECS's error code (`__type`), `message` its text. */
export class EcsError extends Error {
  constructor(code, message) {
    super(message ? `${code}: ${message}` : code);
    this.code = code;
    this.detail = message;
  }
}

/**
 * Calls one ECS action and returns its JSON answer; throws EcsError on an error answer. When the
 * server requires signed requests, asks for an access key once and retries.
 *
 * `signal` belongs to a page's load: once the page is left it is aborted, the request is
 * cancelled and the call throws the signal's AbortError (no sign-in prompt, no error shown), as
 * does every later call of that load. Every helper below takes it as its last argument.
 */
export async function ecs(action, input = {}, signal = undefined) {
  try {
    return await call(action, input, signal);
  } catch (err) {
    if (!(err instanceof EcsError) || !AUTH_ERRORS.has(err.code)) throw err;
    await signIn(credentials() ? `The access key was refused: ${err.detail || err.code}` : undefined);
    return call(action, input, signal);
  }
}

async function call(action, input, signal) {
  signal?.throwIfAborted();
  const body = JSON.stringify(input);
  const headers = { "content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET_PREFIX + action };
  const creds = credentials();
  if (creds)
    Object.assign(
      headers,
      sign({ method: "POST", path: "/", body, headers, host: location.host, credentials: creds, region: creds.region }),
    );
  let res;
  let text;
  try {
    res = await fetch("/", { method: "POST", headers, body, signal });
    text = await res.text();
  } catch {
    if (signal?.aborted) throw signal.reason;
    throw new EcsError("NetworkError", "The control plane cannot be reached.");
  }
  let answer = {};
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    throw new EcsError("ServerException", `Unreadable answer (HTTP ${res.status}).`);
  }
  if (!res.ok) {
    const code = String(answer.__type ?? `HTTP ${res.status}`)
      .split("#")
      .pop();
    throw new EcsError(code, answer.message ?? answer.Message ?? "");
  }
  return answer;
}

/** Every item of a paginated List* action. */
export async function listAll(action, input, key, signal = undefined) {
  const out = [];
  let nextToken;
  do {
    const page = await ecs(action, { ...input, ...(nextToken ? { nextToken } : {}) }, signal);
    out.push(...(page[key] ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** A Describe* action over many ids, in the batch size ECS accepts. */
export async function describeAll(action, input, idsKey, ids, batch, resultKey, signal = undefined) {
  const out = [];
  for (let i = 0; i < ids.length; i += batch) {
    const page = await ecs(action, { ...input, [idsKey]: ids.slice(i, i + batch) }, signal);
    out.push(...(page[resultKey] ?? []));
  }
  return out;
}

export async function clusters(signal = undefined) {
  const arns = await listAll("ListClusters", {}, "clusterArns", signal);
  const found = await describeAll(
    "DescribeClusters",
    { include: ["STATISTICS"] },
    "clusters",
    arns,
    100,
    "clusters",
    signal,
  );
  return found.sort((a, b) => a.clusterName.localeCompare(b.clusterName));
}

export async function services(cluster, signal = undefined) {
  const arns = await listAll("ListServices", { cluster, maxResults: 100 }, "serviceArns", signal);
  const found = await describeAll("DescribeServices", { cluster }, "services", arns, 10, "services", signal);
  return found.sort((a, b) => a.serviceName.localeCompare(b.serviceName));
}

/**
 * The first `pages` pages of ListTasks over `listings` in turn (filters: desiredStatus,
 * serviceName, family, containerInstance), each page `pageSize` tasks (one that ends a listing is
 * filled from the next), described and ordered within itself, so a page loaded later is added
 * below those shown. `more`: a listing has tasks not read yet.
 */
export async function taskPages(cluster, listings, pages, pageSize, signal = undefined) {
  const tasks = [];
  /** The listing being read, and where in it (no token: at its start). */
  let at = 0;
  let nextToken;
  for (let read = 0; read < pages && at < listings.length; read++) {
    const arns = [];
    while (arns.length < pageSize && at < listings.length) {
      const page = await ecs(
        "ListTasks",
        { cluster, ...listings[at], maxResults: pageSize - arns.length, ...(nextToken ? { nextToken } : {}) },
        signal,
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
      if (!nextToken) at++;
    }
    const found = arns.length
      ? await describeAll("DescribeTasks", { cluster }, "tasks", arns, 100, "tasks", signal)
      : [];
    tasks.push(...found.sort(byTaskRecency));
  }
  // A listing ended with the last page read: whether there is more is whether a next one has any.
  while (!nextToken && at < listings.length) {
    const peek = await ecs("ListTasks", { cluster, ...listings[at], maxResults: 1 }, signal);
    if (peek.taskArns?.length) break;
    at++;
  }
  return { tasks, more: at < listings.length };
}

/**
 * One resource by a Describe call naming it alone (its answer's `list` member): `{[key]: it}`, or
 * `{missing: reason}` when the answer is a failure for it (ECS: MISSING).
 */
async function describeOne(action, input, list, key, signal) {
  const r = await ecs(action, input, signal);
  const found = r[list]?.[0];
  return found ? { [key]: found } : { missing: r.failures?.[0]?.reason ?? "MISSING" };
}

/** One service (ACTIVE, DRAINING, or INACTIVE once deleted), or `{missing: reason}`. */
export const service = (cluster, name, signal = undefined) =>
  describeOne("DescribeServices", { cluster, services: [name] }, "services", "service", signal);

/** One task with its tags, or `{missing: reason}`. */
export const task = (cluster, id, signal = undefined) =>
  describeOne("DescribeTasks", { cluster, tasks: [id], include: ["TAGS"] }, "tasks", "task", signal);

const RANK = {
  PROVISIONING: 1,
  PENDING: 1,
  ACTIVATING: 1,
  RUNNING: 0,
  DEACTIVATING: 2,
  STOPPING: 2,
  DEPROVISIONING: 2,
  STOPPED: 3,
};

/** Live tasks first (running, then starting, then stopping), then stopped ones, newest first. */
function byTaskRecency(a, b) {
  return (RANK[a.lastStatus] ?? 4) - (RANK[b.lastStatus] ?? 4) || (b.createdAt ?? 0) - (a.createdAt ?? 0);
}

/** One container instance with its tags and health, or `{missing: reason}`. */
export const instance = (cluster, id, signal = undefined) =>
  describeOne(
    "DescribeContainerInstances",
    { cluster, containerInstances: [id], include: ["TAGS", "CONTAINER_INSTANCE_HEALTH"] },
    "containerInstances",
    "instance",
    signal,
  );

export async function instances(cluster, signal = undefined) {
  const arns = await listAll("ListContainerInstances", { cluster, maxResults: 100 }, "containerInstanceArns", signal);
  return describeAll(
    "DescribeContainerInstances",
    { cluster },
    "containerInstances",
    arns,
    100,
    "containerInstances",
    signal,
  );
}

/** Active task definition revisions, newest first. */
export async function taskDefinitions(signal = undefined) {
  return listAll(
    "ListTaskDefinitions",
    { status: "ACTIVE", sort: "DESC", maxResults: 100 },
    "taskDefinitionArns",
    signal,
  );
}

/** Families with an active revision, by name. */
export async function taskDefinitionFamilies(signal = undefined) {
  return listAll("ListTaskDefinitionFamilies", { status: "ACTIVE", maxResults: 100 }, "families", signal);
}

/** A family's revisions (active and deregistered), newest first, as `{arn, revision, status}`. */
export async function revisions(family, signal = undefined) {
  const list = (status) =>
    listAll(
      "ListTaskDefinitions",
      { familyPrefix: family, status, sort: "DESC", maxResults: 100 },
      "taskDefinitionArns",
      signal,
    );
  const [active, inactive] = await Promise.all([list("ACTIVE"), list("INACTIVE")]);
  const of = (status) => (arn) => ({ arn, revision: Number(String(arn).split(":").pop()), status });
  return [...active.map(of("ACTIVE")), ...inactive.map(of("INACTIVE"))].sort((a, b) => b.revision - a.revision);
}
