import { connect, type Socket } from "node:net";

const TARGET = "AmazonEC2ContainerServiceV20141113";
const HEADER_END = Buffer.from("\r\n\r\n");
/** A response head larger than this is not an ECS answer: the connection is dropped. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Node's own read size. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * An awsJson1_1 request as the bytes that go on the wire, built once and sent many times by
 * `LoadConnection`. Same headers as `EcsHttp` sends (no signing; region in a SigV4-shaped
 * credential scope, which the open development mode reads without checking).
 */
export function prebuiltRequest(endpoint: string, region: string, action: string, body: string): Buffer {
  const url = new URL(endpoint);
  const payload = Buffer.from(body, "utf8");
  const head =
    "POST / HTTP/1.1\r\n" +
    `host: ${url.host}\r\n` +
    "connection: keep-alive\r\n" +
    "content-type: application/x-amz-json-1.1\r\n" +
    `x-amz-target: ${TARGET}.${action}\r\n` +
    `authorization: AWS4-HMAC-SHA256 Credential=AKIDBERTHBENCH/20240101/${region}/ecs/aws4_request, SignedHeaders=host, Signature=0\r\n` +
    `content-length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), payload]);
}

export interface LoadResponse {
  status: number;
  /** Body bytes received (all of them: the call resolves only once Content-Length bytes arrived). */
  bytes: number;
  /** The body itself, when the call asked to keep it. */
  body?: Buffer;
}

/**
 * Reads one HTTP/1.1 answer from the chunks it arrives in, only as far as a load generator needs:
 * the status line and Content-Length of the head, then the body counted to its last byte but not
 * kept. An answer without Content-Length (chunked), one whose head is too large, or bytes past
 * Content-Length are errors (thrown).
 */
export class AnswerReader {
  private head: Buffer | null = null;
  private status = 0;
  /** Body bytes still to come; -1 while reading the head. */
  private remaining = -1;
  private bytes = 0;
  /** Copies of the body's chunks, when it is kept. */
  private kept: Buffer[] | null = null;

  /** Ready for the next answer; `keepBody` keeps a copy of its body. */
  reset(keepBody = false): void {
    this.head = null;
    this.remaining = -1;
    this.bytes = 0;
    this.kept = keepBody ? [] : null;
  }

  /** Takes the next chunk (not kept: the caller may reuse it); the answer once it is complete. */
  feed(chunk: Buffer): LoadResponse | undefined {
    let body = chunk;
    if (this.remaining < 0) {
      const head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const end = head.indexOf(HEADER_END);
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) throw new Error("response head too large");
        this.head = Buffer.from(head); // a copy: the chunk's buffer is reused
        return undefined;
      }
      const text = head.toString("latin1", 0, end);
      const length = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (!text.startsWith("HTTP/1.1 ") || !length) throw new Error(`unexpected response head: ${text.slice(0, 200)}`);
      this.status = Number(text.slice(9, 12));
      this.remaining = Number(length[1]);
      body = head.subarray(end + HEADER_END.length);
    }
    if (body.length > this.remaining) throw new Error("more bytes than Content-Length");
    this.bytes += body.length;
    this.remaining -= body.length;
    this.kept?.push(Buffer.from(body));
    if (this.remaining !== 0) return undefined;
    return this.kept ? { status: this.status, bytes: this.bytes, body: Buffer.concat(this.kept) } : { status: this.status, bytes: this.bytes };
  }
}

/**
 * One keep-alive HTTP/1.1 connection for load generation, one request in flight at a time, its
 * answers read by an `AnswerReader`. Node's http client costs several times more CPU per request,
 * and on a shared machine that CPU is taken from the server being measured. A malformed answer
 * fails the call and closes the connection.
 */
export class LoadConnection {
  private readonly reader = new AnswerReader();
  private pending: { resolve: (r: LoadResponse) => void; reject: (e: Error) => void } | null = null;

  private socket!: Socket;

  private constructor() {}

  static open(endpoint: string): Promise<LoadConnection> {
    const url = new URL(endpoint);
    const conn = new LoadConnection();
    return new Promise((resolve, reject) => {
      // Reads land in one buffer reused for every read (nothing is kept past the call), so a 130 kB
      // answer costs the load generator no allocation.
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const callback = (n: number) => {
        conn.onData(buffer.subarray(0, n));
        return true;
      };
      const socket = connect({ host: url.hostname, port: Number(url.port), onread: { buffer, callback } });
      conn.socket = socket;
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.setNoDelay(true);
        socket.on("error", (err) => conn.fail(err));
        socket.on("close", () => conn.fail(new Error("connection closed")));
        resolve(conn);
      });
      socket.once("error", reject);
    });
  }

  get open(): boolean {
    return !this.socket.destroyed;
  }

  /** Sends one prebuilt request and resolves when its whole answer has arrived. */
  send(request: Buffer, o: { keepBody?: boolean } = {}): Promise<LoadResponse> {
    if (this.pending) return Promise.reject(new Error("a request is already in flight"));
    if (this.socket.destroyed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.reader.reset(o.keepBody);
      this.socket.write(request);
    });
  }

  close() {
    this.socket.destroy();
  }

  private onData(chunk: Buffer) {
    if (!this.pending) return this.fail(new Error("bytes arrived with no request in flight"));
    let answer: LoadResponse | undefined;
    try {
      answer = this.reader.feed(chunk);
    } catch (err) {
      return this.fail(err as Error);
    }
    if (!answer) return;
    const done = this.pending;
    this.pending = null;
    done.resolve(answer);
  }

  private fail(err: Error) {
    const p = this.pending;
    this.pending = null;
    this.socket.destroy();
    p?.reject(err);
  }
}
