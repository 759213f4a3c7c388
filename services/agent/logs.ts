import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import {
  type LogChunk,
  type LogStreamMessage,
  LogsCancel,
  type LogsReply,
  LogsRequest,
  labels,
} from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { messageJson } from "../store/message-json.ts";
import type { DockerPort } from "./docker/port.ts";

/** Followed logs end after this long unless the request asks for less. */
const DEFAULT_FOLLOW_MS = 5 * 60_000;
const MAX_FOLLOW_MS = 60 * 60_000;
/** Keep a reply well under NATS's default 1 MiB max payload: the newest output wins. */
const MAX_REPLY_BYTES = 512 * 1024;

/**
 * Answers log requests on `subjects.logs(region, instanceId)` with a container's demultiplexed
 * stdout/stderr. A followed log streams LogStreamMessage chunks on
 * `subjects.logStream(region, instanceId, streamId)` until the container stops or the deadline
 * passes, then sends one `end`. The subject is built here, not taken from the request: with
 * `berth up`'s NATS permissions the agent may publish under its own instance's log streams only.
 * A LogsCancel naming the stream (its reader went away) ends it early, with `end` "cancelled".
 */
interface LogsDeps {
  nc: NatsConnection;
  docker: DockerPort;
  region: string;
  instanceId: string;
  log: Logger;
  signal: AbortSignal;
}

export function serveLogs(d: LogsDeps): Subscription {
  const following = new Map<string, AbortController>();
  return d.nc.subscribe(subjects.logs(d.region, d.instanceId), {
    callback: (_err, m) => {
      const body = messageJson(m);
      const cancel = LogsCancel.safeParse(body);
      if (cancel.success) {
        following.get(cancel.data.cancel)?.abort();
        return;
      }
      void answer(body, { ...d, following })
        .then((reply) => m.respond(JSON.stringify(reply)))
        .catch((err) => {
          d.log.warn({ err }, "log request failed");
          m.respond(JSON.stringify({ ok: false, code: "ServerException", message: String(err) } satisfies LogsReply));
        });
    },
  });
}

async function answer(
  body: unknown,
  /** `following`: the follows in progress by stream id, for LogsCancel. */
  d: LogsDeps & { following: Map<string, AbortController> },
): Promise<LogsReply> {
  const parsed = LogsRequest.safeParse(body);
  if (!parsed.success) return { ok: false, code: "InvalidParameterException", message: parsed.error.message };
  const req = parsed.data;
  const rows = await d.docker.listContainers(
    [`${labels.instanceId}=${d.instanceId}`, `${labels.taskArn}=${req.taskArn}`],
    {
      signal: d.signal,
    },
  );
  const row = req.container ? rows.find((r) => r.labels[labels.containerName] === req.container) : rows[0];
  if (!row)
    return {
      ok: false,
      code: "ResourceNotFoundException",
      message: "The container's output is no longer on the host.",
    };
  const container = row.labels[labels.containerName] ?? "";
  const tail = req.tail ?? 1000;

  if (!req.follow || !req.streamId) {
    const chunks: LogChunk[] = [];
    let bytes = 0;
    await d.docker.logs(
      row.id,
      { tail },
      (c) => {
        chunks.push(c);
        bytes += c.data.length;
        while (bytes > MAX_REPLY_BYTES && chunks.length > 1) bytes -= chunks.shift()?.data.length ?? 0;
      },
      { signal: d.signal },
    );
    return { ok: true, container, chunks, following: false };
  }

  const streamId = req.streamId;
  const stream = subjects.logStream(d.region, d.instanceId, streamId);
  const send = (msg: LogStreamMessage) => d.nc.publish(stream, JSON.stringify(msg));
  const deadline = AbortSignal.timeout(Math.min(req.followMs ?? DEFAULT_FOLLOW_MS, MAX_FOLLOW_MS));
  const cancelled = new AbortController();
  d.following.get(streamId)?.abort(); // a stream id asked for again: the newer follow takes its subject
  d.following.set(streamId, cancelled);
  const signal = AbortSignal.any([deadline, cancelled.signal, d.signal]);
  const ended = (): LogStreamMessage => ({
    type: "end",
    reason: cancelled.signal.aborted ? "cancelled" : deadline.aborted ? "deadline" : "stopped",
  });
  void d.docker
    .logs(row.id, { tail, follow: true }, (c) => send({ type: "chunk", container, ...c }), { signal })
    .then(() => send(ended()))
    // A cancel or the deadline can abort Docker's call before its stream began: that is no error.
    .catch((err) =>
      send(
        cancelled.signal.aborted || deadline.aborted ? ended() : { type: "end", reason: "error", message: String(err) },
      ),
    )
    .finally(() => {
      if (d.following.get(streamId) === cancelled) d.following.delete(streamId);
    });
  return { ok: true, container, chunks: [], following: true };
}
