import { type Server as HttpServer, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { type RequestHead, readHead } from "./http-head.ts";

/**
 * The API edge's own reader for the requests the AWS SDKs and the CLI send — `POST` over
 * HTTP/1.1 keep-alive, a Content-Length body — in front of Node's HTTP server, which gets every
 * other connection and everything it is unsure of.
 *
 * Node's HTTP server builds a request and a response object, two streams, per request: about
 * half of what a small ECS call costs the control plane. Here a request is read straight off the
 * socket and answered with one write. The rule that keeps it safe: it serves a request only when
 * the request is one it understands completely; on anything else (another method or version, a
 * path one of the extra routes serves, chunked bodies, `Expect`, `Upgrade`, `Connection` other
 * than keep-alive, no Host, a header sent twice or malformed, a head past Node's 16 kB limit, a
 * body past the edge's limit) the connection, from that request on, is handed to Node's HTTP
 * server with the bytes not yet served, and Node answers it as it would have from the start (a
 * 400, 413, 431 and so on). It never refuses a request of its own accord. Requests on one connection are served
 * one after another, in order.
 *
 *                socket ──► FastConnection ──(a request it serves)──► serve(head, body, reply)
 *                                  │
 *                (anything else) ──┴──► Node's http.Server, the rest of the connection
 */

/**
 * Writes one answer: status, header lines (`name: value\r\n` each, as the caller formats them)
 * and body. `written` runs once the socket has taken the body, or the connection is gone. A string
 * body goes out as UTF-8, or as latin1 when the caller knows it is ASCII (the same bytes, copied
 * instead of encoded).
 */
export type Reply = (
  status: number,
  headerLines: string,
  body: string | Buffer,
  written?: () => void,
  encoding?: "utf8" | "latin1",
) => void;

export interface FastPathOptions {
  /** Whether a POST to this request target is the ECS API's (not one of the extra routes). */
  serves(url: string): boolean;
  /** Serves one request; must call `reply` exactly once and never throw. */
  serve(head: RequestHead, body: Buffer, reply: Reply): void;
  /** Largest body served here; a longer one goes to Node's server, which refuses it. */
  maxBodyBytes: number;
  /** An idle keep-alive connection is closed after this (default Node's keepAliveTimeout, 5 s). */
  keepAliveMs?: number;
  /** A request begun and not whole after this gets a 408 (default Node's headersTimeout, 60 s). */
  partialRequestMs?: number;
}

/** Node's default `maxHeaderSize`: a longer head goes to Node's server, which answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Node's default `keepAliveTimeout`. */
const KEEP_ALIVE_MS = 5_000;
/** Node's default `headersTimeout`. */
const PARTIAL_REQUEST_MS = 60_000;
const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Puts the fast path in front of `http`: its connections are read here first and handed to
 * Node's own connection handling (the server's `connection` listener, taken aside) when they
 * must be. The server listens, closes and tracks what it was handed as before; closing its
 * connections also ends those still read here.
 */
export function serveFastPath(http: HttpServer, opts: FastPathOptions): void {
  const nodeListeners = http.listeners("connection") as ((socket: Socket) => void)[];
  http.removeAllListeners("connection");
  const open = new Map<Socket, FastConnection>();
  http.on("connection", (socket: Socket) => {
    const connection = new FastConnection(socket, opts, () => {
      open.delete(socket);
      for (const listener of nodeListeners) listener.call(http, socket);
    });
    open.set(socket, connection);
    socket.once("close", () => open.delete(socket));
  });
  const closeAll = http.closeAllConnections.bind(http);
  const closeIdle = http.closeIdleConnections.bind(http);
  http.closeAllConnections = () => {
    for (const socket of open.keys()) socket.destroy();
    closeAll();
  };
  // server.close() calls this: connections between requests end, those serving one end after it.
  http.closeIdleConnections = () => {
    for (const connection of open.values()) connection.closeWhenIdle();
    closeIdle();
  };
}

/** One connection while it is read here: unserved bytes, the request in progress, the timers. */
class FastConnection {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes to wait for before trying to read a request again (a known body's end). */
  private need = 0;
  private busy = false;
  private ended = false;
  private closing = false;
  private gone = false;
  /** Handed over to Node's HTTP server: nothing here touches the socket any more. */
  private left = false;
  private readonly keepAliveMs: number;
  private readonly partialRequestMs: number;

  constructor(
    private readonly socket: Socket,
    private readonly opts: FastPathOptions,
    private readonly handOver: () => void,
  ) {
    this.keepAliveMs = opts.keepAliveMs ?? KEEP_ALIVE_MS;
    this.partialRequestMs = opts.partialRequestMs ?? PARTIAL_REQUEST_MS;
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("timeout", this.onTimeout);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
    socket.setTimeout(this.keepAliveMs);
  }

  private readonly onData = (chunk: Buffer) => {
    if (this.busy) {
      this.holdBack(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.need) this.next();
  };

  private readonly onEnd = () => {
    this.ended = true;
    if (!this.busy) this.socket.end();
  };

  private readonly onTimeout = () => {
    if (this.busy) return;
    if (this.size === 0) {
      this.socket.destroy();
      return;
    }
    this.socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  };

  private readonly onError = () => this.socket.destroy();

  private readonly onClose = () => {
    this.gone = true;
    this.chunks = [];
    this.size = 0;
  };

  /** Serves the next request if it is here whole; hands the connection over if it is not one to serve. */
  private next(): void {
    if (this.size === 0) {
      if (this.ended) this.socket.end();
      else this.socket.setTimeout(this.keepAliveMs);
      return;
    }
    const buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    this.chunks = [buf];
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) this.leave();
      else this.awaitBytes(buf.length + 1);
      return;
    }
    const head = end <= MAX_HEAD_BYTES ? readHead(buf.toString("latin1", 0, end), this.opts.maxBodyBytes) : undefined;
    if (!head || !this.opts.serves(head.request.url)) {
      this.leave();
      return;
    }
    const total = end + HEAD_END.length + head.length;
    if (buf.length < total) {
      this.awaitBytes(total);
      return;
    }
    const body = buf.subarray(end + HEAD_END.length, total);
    this.chunks = [];
    this.size = 0;
    this.need = 0;
    this.busy = true;
    if (total < buf.length) this.holdBack(buf.subarray(total));
    this.socket.setTimeout(0);
    this.opts.serve(head.request, body, this.reply);
  }

  /**
   * Bytes that came after the request being served go back into the socket, paused until the
   * answer is out, and so does the client's end: a socket says `end` only once its buffer is
   * empty, and a connection handed over to Node's server later must carry both (a stream takes no
   * bytes back after `end`). A client pipelining faster than it is answered meets TCP's
   * backpressure. Clients that wait for each answer (the SDKs, the CLI) never get here.
   */
  private holdBack(bytes: Buffer): void {
    this.socket.pause();
    this.socket.unshift(bytes);
  }

  /** Waits until `need` bytes are here; a request the client ended before it was whole is dropped. */
  private awaitBytes(need: number): void {
    if (this.ended) {
      this.socket.end();
      return;
    }
    this.need = need;
    this.socket.setTimeout(this.partialRequestMs);
  }

  private readonly reply: Reply = (status, headerLines, body, written, encoding = "utf8") => {
    const socket = this.socket;
    if (this.gone || !socket.writable) {
      written?.();
      return;
    }
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n${headerLines}Date: ${httpDate()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${Math.ceil(this.keepAliveMs / 1000)}\r\n\r\n`;
    const done = written && (() => written());
    let flushed: boolean;
    if (typeof body === "string") flushed = socket.write(head + body, encoding, done);
    else {
      socket.cork();
      socket.write(head, "latin1");
      flushed = socket.write(body, done);
      socket.uncork();
    }
    // The next request waits until the socket has taken this answer (backpressure on the client).
    if (flushed) this.idle();
    else socket.once("drain", this.idle);
  };

  /** The answer is out: serve what came meanwhile, or wait for more. */
  private readonly idle = () => {
    this.busy = false;
    if (this.gone) return;
    if (this.closing) {
      this.socket.end();
      return;
    }
    this.next();
    if (!this.busy && !this.left && this.socket.isPaused()) this.socket.resume();
  };

  /** Ends the connection now if no request is in progress, else once its answer is written. */
  closeWhenIdle(): void {
    this.closing = true;
    if (!this.busy) this.socket.end();
  }

  /** Gives the connection, from the request at hand on, to Node's HTTP server. */
  private leave(): void {
    this.left = true;
    const socket = this.socket;
    socket.removeListener("data", this.onData);
    socket.removeListener("end", this.onEnd);
    socket.removeListener("timeout", this.onTimeout);
    socket.removeListener("error", this.onError);
    socket.removeListener("close", this.onClose);
    socket.setTimeout(0);
    socket.pause();
    const rest = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    if (rest?.length) socket.unshift(rest);
    this.handOver();
    socket.resume();
  }
}

let dateSecond = -1;
let dateText = "";

/** The Date header's value, made once a second (as Node's server does). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
