// Live updates: the control plane streams every event it folds (GET /berth/v1/stream, Server-Sent
// Events). The console never trusts the stream for state: an event only says what to re-fetch.

/** `berth.evt.<region>.<kind>.<ids…>` → {region, kind, cluster, id}; null for other subjects. */
export function parseSubject(subject) {
  const [berth, evt, region, kind, ...ids] = String(subject).split(".");
  if (berth !== "berth" || evt !== "evt" || !kind) return null;
  const clusterScoped = kind === "task" || kind === "instance" || kind === "service";
  return {
    region,
    kind,
    cluster: kind === "cluster" ? ids[0] : clusterScoped ? ids[0] : undefined,
    id: clusterScoped ? ids[1] : ids[0],
  };
}

/**
 * Connects to the stream. `onEvent(e)` for each folded event; `onResync()` when events may have
 * been missed (a reconnect the server could not fill in), so everything shown must be re-read;
 * `onStatus({connected, seq})` for the indicator. EventSource reconnects by itself and sends the
 * last event id, which the server uses to replay what was missed.
 */
export function connectLive({ onEvent, onResync, onStatus }) {
  const source = new EventSource("/berth/v1/stream");
  let seq = 0;
  let connectedBefore = false;
  source.addEventListener("hello", (e) => {
    const hello = JSON.parse(e.data);
    seq = Math.max(seq, hello.seq);
    onStatus({ connected: true, seq });
    // A reconnect without a Last-Event-ID yet (nothing received before) cannot be replayed.
    if (connectedBefore && !source.lastEventId) onResync();
    connectedBefore = true;
  });
  source.addEventListener("reset", (e) => {
    seq = JSON.parse(e.data).seq;
    onResync();
  });
  source.onmessage = (e) => {
    const event = JSON.parse(e.data);
    seq = event.seq;
    onStatus({ connected: true, seq });
    onEvent(event);
  };
  source.onerror = () => onStatus({ connected: false, seq });
  return source;
}
