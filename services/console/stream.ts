import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { FoldListener } from "../control-plane/control-plane.ts";

/** What the stream says about each folded event: enough for a page to know what to re-fetch. */
export interface FoldedEvent {
  seq: number;
  subject: string;
  type: string;
  time: string;
}

/** Events kept for clients that reconnect (EventSource sends Last-Event-ID) so they miss nothing. */
const RESUME_BUFFER = 2_000;
/** The fold listener stays this long after the last client left, so a page reload resumes. */
const IDLE_UNSUBSCRIBE_MS = 60_000;
/** A comment line this often keeps proxies and idle connections from closing the stream. */
const KEEPALIVE_MS = 15_000;
/** A client that lets this much output pile up is too slow to follow; it is dropped and reconnects. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
/** EventSource waits this long before reconnecting. */
const RETRY_MS = 2_000;

/**
 * Server-Sent Events of every event the control plane folds (GET /berth/v1/stream):
 *
 *   event: hello   data: {"seq": <read model position>}     first, on every connection
 *   id: <seq>      data: {"seq","subject","type","time"}    one per folded event, in log order
 *   event: reset   data: {"seq": …}                         events were missed: re-read everything
 *
 * It follows the read model only while someone listens (and a minute after), decoding each event
 * once for all clients.
 */
export class FoldedEventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly recent: { seq: number; frame: string }[] = [];
  private unsubscribe: (() => void) | undefined;
  private idle: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  /** Sequence from which `recent` is complete (events before it were not seen). */
  private since = 0;

  constructor(
    private readonly onFolded: (listener: FoldListener) => () => void,
    private readonly position: () => number,
    private readonly log: Logger,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse) {
    this.follow();
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const seq = this.position();
    res.write(`retry: ${RETRY_MS}\nevent: hello\ndata: ${JSON.stringify({ seq })}\n\n`);
    const last = Number(req.headers["last-event-id"]);
    if (Number.isInteger(last) && last > 0 && last < seq) {
      if (last + 1 < this.since) res.write(`event: reset\ndata: ${JSON.stringify({ seq })}\n\n`);
      else for (const e of this.recent) if (e.seq > last) res.write(e.frame);
    }
    this.clients.add(res);
    const drop = () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.idleSoon();
    };
    req.on("close", drop);
    res.on("error", drop);
  }

  private follow() {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    if (this.unsubscribe) return;
    this.since = this.position() + 1;
    this.unsubscribe = this.onFolded((m) => this.folded(m));
    this.keepalive = setInterval(() => this.broadcast(": keepalive\n\n"), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  private idleSoon() {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (this.clients.size > 0) return;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      if (this.keepalive) clearInterval(this.keepalive);
      this.keepalive = undefined;
      this.recent.length = 0;
      this.since = 0;
    }, IDLE_UNSUBSCRIBE_MS);
    this.idle.unref();
  }

  private folded(m: { seq: number; subject: string; data: Uint8Array }) {
    let type = "unknown";
    let time = "";
    try {
      const env = JSON.parse(new TextDecoder().decode(m.data)) as { type?: unknown; time?: unknown };
      if (typeof env.type === "string") type = env.type;
      if (typeof env.time === "string") time = env.time;
    } catch {
      // Not a Berth envelope: still part of the log, so still streamed (as "unknown").
    }
    const event: FoldedEvent = { seq: m.seq, subject: m.subject, type, time };
    const frame = `id: ${m.seq}\ndata: ${JSON.stringify(event)}\n\n`;
    this.recent.push({ seq: m.seq, frame });
    if (this.recent.length > RESUME_BUFFER) {
      this.recent.shift();
      this.since = this.recent[0]?.seq ?? m.seq;
    }
    this.broadcast(frame);
  }

  private broadcast(frame: string) {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BACKLOG_BYTES) {
        this.log.warn("console stream client too slow; disconnecting it");
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(frame);
    }
  }
}
