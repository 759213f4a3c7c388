import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type NatsConnection, RequestError } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { type LogChunk, LogStreamMessage, type LogsCancel, LogsReply, type LogsRequest } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { taskArnOf } from "../../machines/task/task.spec.ts";
import type { ApiAuth } from "../api/auth/authenticator.ts";
import type { ApiServices } from "../api/context.ts";
import { EcsError } from "../api/errors.ts";
import { taskIdOf } from "../api/resolve.ts";
import { type HttpRoute, send } from "../api/server.ts";
import { messageJson } from "../store/message-json.ts";
import type { ReadModel } from "./read-model.ts";

export const LOGS_PATH = "/berth/v1/logs";

/** How long the agent has to answer a log request (it reads up to the tail from Docker first). */
const AGENT_REPLY_MS = 15_000;
/** A followed log asks the agent for its longest follow; `berth logs -f` asks again when it ends. */
const FOLLOW_MS = 60 * 60_000;
/** If the agent dies mid-follow no `end` ever comes; the stream is closed this long after its deadline. */
const FOLLOW_GRACE_MS = 30_000;

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z0-9-]{1,32}$/;

interface Query {
  region: string;
  cluster: string;
  task: string;
  container?: string;
  tail?: number;
  follow: boolean;
  text: boolean;
}

/** The region is the signature's when there is one, else the query's, else the default. */
function parseQuery(req: IncomingMessage, signedRegion: string | undefined, defaultRegion: string): Query {
  const q = new URL(req.url ?? "/", "http://berth").searchParams;
  const region = signedRegion ?? (q.get("region") || defaultRegion);
  const cluster = q.get("cluster") || "default";
  const task = q.get("task");
  const tail = q.get("tail");
  if (!REGION.test(region)) throw new EcsError("InvalidParameterException", "region is not a valid region name.");
  if (!NAME.test(cluster)) throw new EcsError("ClusterNotFoundException", "Cluster not found.");
  if (!task) throw new EcsError("InvalidParameterException", "task is required: a task id or ARN.");
  if (tail !== null && !/^\d{1,9}$/.test(tail)) throw new EcsError("InvalidParameterException", "tail must be a whole number of lines.");
  const follow = q.get("follow");
  return {
    region,
    cluster,
    task,
    container: q.get("container") || undefined,
    tail: tail === null ? undefined : Number(tail),
    follow: follow === "1" || follow === "true",
    text: q.get("format") === "text",
  };
}

/**
 * GET /berth/v1/logs?cluster=&task=&container=&tail=&follow=1[&region=][&format=text]
 *
 * Finds the task's container instance in the read model and asks that instance's agent for the
 * container's output over NATS (`subjects.logs`). The answer is NDJSON, one object a line:
 * `{"stream":"stdout"|"stderr","data":"…"}` for output, then `{"end":"complete"|"stopped"|
 * "deadline"|"error","message"?}` as the last line. With follow=1 the response is chunked and
 * lines arrive as the container writes them, until it stops or the follow deadline. With
 * format=text the body is the raw output (stdout and stderr interleaved) for curl and friends.
 * Errors are ECS-style JSON: `{"__type": code, "message": …}` with a 4xx/5xx status.
 */
export function logsRoute(d: {
  nc: NatsConnection;
  services: ApiServices;
  defaultRegion: string;
  log: Logger;
  auth?: ApiAuth;
}): HttpRoute {
  return {
    method: "GET",
    path: LOGS_PATH,
    handle: async (req, res) => {
      const requestId = randomUUID();
      try {
        // With credentials configured, reading output needs a SigV4-signed request from a
        // principal allowed to DescribeTasks on the task: the same gate as the task's details.
        const identity = d.auth?.authenticate(req, Buffer.alloc(0));
        const q = parseQuery(req, identity?.region, d.defaultRegion);
        if (identity) {
          d.auth?.authorize(identity, "DescribeTasks", { cluster: q.cluster, tasks: [q.task] }, { region: q.region, account: d.services.account }, d.services);
        }
        const { request, subject, instanceId } = locate(q, d.services.model);
        if (q.follow) await follow(d, q, { subject, instanceId }, request, res, requestId);
        else await once(d, q, subject, request, res);
      } catch (err) {
        if (res.headersSent) {
          res.end();
          return;
        }
        if (err instanceof EcsError) send(res, requestId, err.status, { __type: err.code, message: err.message, ...err.extra });
        else {
          d.log.error({ err, requestId }, "log request failed");
          send(res, requestId, 500, { __type: "ServerException", message: "Internal error." });
        }
      }
    },
  };
}

function locate(q: Query, model: ReadModel): { request: LogsRequest; subject: string; instanceId: string } {
  const cluster = model.clusters.get(subjects.cluster(q.region, q.cluster));
  if (cluster?.snapshot.value !== "ACTIVE") throw new EcsError("ClusterNotFoundException", "Cluster not found.");
  const id = taskIdOf(q.task, q.cluster);
  const task = id ? model.tasks.get(subjects.task(q.region, q.cluster, id)) : undefined;
  if (!task) throw new EcsError("InvalidParameterException", "The referenced task was not found.");
  const t = task.snapshot.context;
  if (!t.instanceId) throw new EcsError("InvalidParameterException", "The task has not been placed on a container instance yet, so it has no output.");
  if (q.container !== undefined && !t.containers.some((c) => c.name === q.container))
    throw new EcsError("InvalidParameterException", `The task has no container named ${q.container}.`);
  return {
    subject: subjects.logs(q.region, t.instanceId),
    instanceId: t.instanceId,
    request: {
      taskArn: taskArnOf(t),
      // Without a name the agent would pick any container; the task's first one is the stable choice.
      container: q.container ?? t.containers[0]?.name,
      ...(q.tail !== undefined ? { tail: q.tail } : {}),
    },
  };
}

async function ask(nc: NatsConnection, subject: string, request: LogsRequest): Promise<Extract<LogsReply, { ok: true }>> {
  let raw: unknown;
  try {
    raw = (await nc.request(subject, JSON.stringify(request), { timeout: AGENT_REPLY_MS })).json();
  } catch (err) {
    const noAgent = err instanceof RequestError && err.isNoResponders();
    throw new EcsError(
      "TargetNotConnectedException",
      noAgent
        ? "The agent of the task's container instance is not connected, so the task's output cannot be read now."
        : `The agent of the task's container instance did not answer within ${AGENT_REPLY_MS / 1000} s.`,
    );
  }
  const reply = LogsReply.safeParse(raw);
  if (!reply.success) throw new EcsError("ServerException", "The agent sent an unreadable answer.", 500);
  if (!reply.data.ok) throw new EcsError(reply.data.code, reply.data.message, reply.data.code === "ServerException" ? 500 : 400);
  return reply.data;
}

const line = (q: Query, c: LogChunk) => (q.text ? c.data : `${JSON.stringify({ stream: c.stream, data: c.data })}\n`);
const endLine = (q: Query, reason: string, message?: string) =>
  q.text ? "" : `${JSON.stringify(message === undefined ? { end: reason } : { end: reason, message })}\n`;

function head(res: ServerResponse, q: Query, requestId: string) {
  res.writeHead(200, {
    "content-type": q.text ? "text/plain; charset=utf-8" : "application/x-ndjson",
    "cache-control": "no-store",
    "x-amzn-requestid": requestId,
  });
}

async function once(d: { nc: NatsConnection }, q: Query, subject: string, request: LogsRequest, res: ServerResponse) {
  const reply = await ask(d.nc, subject, request);
  const body = reply.chunks.map((c) => line(q, c)).join("") + endLine(q, "complete");
  res.writeHead(200, {
    "content-type": q.text ? "text/plain; charset=utf-8" : "application/x-ndjson",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

async function follow(
  d: { nc: NatsConnection; log: Logger },
  q: Query,
  agent: { subject: string; instanceId: string },
  request: LogsRequest,
  res: ServerResponse,
  requestId: string,
) {
  // The agent publishes under its own instance only (its NATS permissions), so the stream's
  // subject is that instance's, told apart from its other follows by a fresh id.
  const streamId = randomUUID();
  const stream = subjects.logStream(q.region, agent.instanceId, streamId);
  // Subscribed before the request goes out, so no chunk can arrive unheard.
  const sub = d.nc.subscribe(stream);
  let finished = false;
  /**
   * Stops relaying and, unless the agent ended the follow itself, has the agent stop reading the
   * container's output now rather than at its deadline, an hour away (a lost cancel costs only
   * that). False when it had already stopped.
   */
  const stop = (agentEnded: boolean) => {
    if (finished) return false;
    finished = true;
    clearTimeout(watchdog);
    sub.unsubscribe();
    if (!agentEnded) d.nc.publish(agent.subject, JSON.stringify({ cancel: streamId } satisfies LogsCancel));
    return true;
  };
  const finish = (reason: string, message?: string, agentEnded = false) => {
    if (stop(agentEnded) && !res.writableEnded) res.end(endLine(q, reason, message));
  };
  const watchdog = setTimeout(() => finish("deadline"), FOLLOW_MS + FOLLOW_GRACE_MS);
  // The client went away (Ctrl-C): stop relaying, and the agent's follow with it.
  res.on("close", () => finish("closed"));
  let reply: Awaited<ReturnType<typeof ask>>;
  try {
    reply = await ask(d.nc, agent.subject, { ...request, follow: true, streamId, followMs: FOLLOW_MS });
  } catch (err) {
    // No answer in time may still mean a follow the agent began: it is cancelled too.
    stop(false);
    throw err;
  }
  head(res, q, requestId);
  if (!reply.following) {
    // An agent of an earlier version (it follows on an inbox of the request's) answered with the
    // output so far and follows nothing: that, and the end.
    res.write(reply.chunks.map((c) => line(q, c)).join(""));
    finish("complete", undefined, true);
    return;
  }
  res.flushHeaders();
  for await (const m of sub) {
    const parsed = LogStreamMessage.safeParse(messageJson(m));
    if (!parsed.success) {
      d.log.warn({ stream }, "unreadable log stream message ignored");
      continue;
    }
    const msg = parsed.data;
    if (msg.type === "end") {
      finish(msg.reason, msg.message, true);
      break;
    }
    res.write(line(q, msg));
  }
  finish("closed");
}
