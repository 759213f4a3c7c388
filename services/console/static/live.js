// Live updates: the control plane streams every event it folds (GET /berth/v1/stream, Server-Sent
// Events). The console never trusts the stream for state: an event only says what to re-fetch.
//
// The stream is read with fetch rather than EventSource so that, on a server that requires
// credentials, the request can be signed like every other one.

import { AUTH_ERRORS, credentials, signIn } from "./auth.js";
import { sign } from "./sigv4.js";

const STREAM = "/berth/v1/stream";
/** Wait before reconnecting; the server's `retry:` field overrides it. */
const DEFAULT_RETRY_MS = 2_000;

/** `berth.evt.<region>.<kind>.<ids…>` → {region, kind, cluster, id}; null for other subjects. */
export function parseSubject(subject) {
  const [berth, evt, region, kind, ...ids] = String(subject).split(".");
  if (berth !== "berth" || evt !== "evt" || !kind) return null;
  const clusterScoped = kind === "task" || kind === "instance" || kind === "service";
  return {
    region,
    kind,
    cluster: clusterScoped || kind === "cluster" ? ids[0] : undefined,
    id: clusterScoped ? ids[1] : ids[0],
  };
}

/**
 * Follows the stream until the page goes away. `onEvent(e)` for each folded event, in log order;
 * `onResync()` when events may have been missed (a reconnect the server could not fill in), so
 * everything shown must be re-read; `onStatus({connected, seq})` for the indicator. A reconnect
 * sends the last event id seen, and the server replays what came after it.
 */
export function connectLive({ onEvent, onResync, onStatus }) {
  let lastId = "";
  let seq = 0;
  let retryMs = DEFAULT_RETRY_MS;
  let connectedBefore = false;

  const dispatch = (frame) => {
    if (frame.retry) retryMs = Number(frame.retry) || retryMs;
    if (frame.id) lastId = frame.id;
    if (frame.event === "hello") {
      seq = Math.max(seq, JSON.parse(frame.data).seq);
      onStatus({ connected: true, seq });
      // A reconnect with nothing received before cannot be replayed: re-read instead.
      if (connectedBefore && !lastId) onResync();
      connectedBefore = true;
    } else if (frame.event === "reset") {
      seq = JSON.parse(frame.data).seq;
      onResync();
    } else if (!frame.event && frame.data) {
      const event = JSON.parse(frame.data);
      seq = event.seq;
      onStatus({ connected: true, seq });
      onEvent(event);
    }
  };

  const connect = async () => {
    const headers = { accept: "text/event-stream" };
    if (lastId) headers["last-event-id"] = lastId;
    const creds = credentials();
    if (creds)
      Object.assign(
        headers,
        sign({ method: "GET", path: STREAM, host: location.host, credentials: creds, region: creds.region }),
      );
    const res = await fetch(STREAM, { headers, cache: "no-store" });
    if (!res.ok) {
      const answer = await res.json().catch(() => ({}));
      const code = String(answer.__type ?? "")
        .split("#")
        .pop();
      if (AUTH_ERRORS.has(code)) await signIn().catch(() => {});
      throw new Error(`stream answered ${res.status} ${code}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        dispatch(parseFrame(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
    }
  };

  const loop = async () => {
    for (;;) {
      try {
        await connect();
      } catch {
        // Reconnect below, whatever went wrong (network, server restart, refused key).
      }
      onStatus({ connected: false, seq });
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
  void loop();
}

/** One SSE frame's fields; `data` lines are joined with newlines, comments are dropped. */
function parseFrame(text) {
  const frame = {};
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    frame[name] = name === "data" && frame.data !== undefined ? `${frame.data}\n${value}` : value;
  }
  return frame;
}
