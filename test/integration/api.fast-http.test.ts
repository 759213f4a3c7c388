import { createServer, request, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ApiServices } from "../../services/api/context.ts";
import { serveFastPath } from "../../services/api/fast-http.ts";
import { createApiServer, MAX_BODY_BYTES } from "../../services/api/server.ts";

/**
 * The API edge's own HTTP/1.1 reader (fast-http.ts) over real sockets: what it serves is answered
 * as Node's server answers it, and what it does not understand reaches Node's server with every
 * byte, so Node answers as it would have from the start.
 */

const TARGET = "AmazonEC2ContainerServiceV20141113.";
const server = createApiServer({
  services: { account: "000000000000", clock: Date.now } as unknown as ApiServices,
  handlers: {
    // Echoes its input and says which reader served it (the fast path's head is not an IncomingMessage).
    ListClusters: async (input) => ({ clusterArns: [], echo: input }),
    // An answer JSON cannot hold: fails after the handler, where the edge must still answer.
    ListServices: async () => ({ count: 1n }),
    // Answers after a while: what the client sends meanwhile, its end included, is all here by then.
    DescribeClusters: async (input) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { clusters: [], echo: input };
    },
  },
  routes: [
    {
      method: "POST",
      path: "/route",
      handle: (_req, res) => {
        res.writeHead(200, { "content-length": 5 });
        res.end("route");
      },
    },
    {
      method: "GET",
      path: "/health",
      handle: (_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": 15 });
        res.end('{"status":"ok"}');
      },
    },
  ],
  defaultRegion: "us-east-1",
  log: pino({ level: "silent" }),
});
let port = 0;
/** Requests Node's HTTP server parsed (it emits `request` for each; the fast path's never reach it). */
let nodeRequests = 0;
server.on("request", () => nodeRequests++);

/** Listens on a free loopback port; resolves to it. */
async function listen(s: Server): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

/** Closes the server and every connection it has. */
async function shut(s: Server): Promise<void> {
  const closed = new Promise((resolve) => s.close(resolve));
  s.closeAllConnections();
  await closed;
}

beforeAll(async () => {
  port = await listen(server);
});
afterAll(() => shut(server));

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const post = (body: string, extra = "", action = "ListClusters") =>
  `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-amz-target: ${TARGET}${action}\r\ncontent-type: application/x-amz-json-1.1\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Answers read off a socket as they come: a head, then Content-Length bytes of body. */
class Reader {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiting?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  async answer(): Promise<Answer> {
    for (;;) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const [statusLine, ...lines] = this.buf.toString("latin1", 0, end).split("\r\n");
        const headers: Record<string, string> = {};
        for (const l of lines) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
        const length = Number(headers["content-length"] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.toString("utf8", end + 4, end + 4 + length);
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(statusLine?.split(" ")[1]), headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed; unread: ${this.buf.toString("latin1")}`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = undefined;
    }
  }

  /** Resolves once the server has closed the connection. */
  async close(): Promise<void> {
    while (!this.closed) {
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = undefined;
    }
  }
}

async function open(p = port): Promise<Reader> {
  const socket = connect({ host: "127.0.0.1", port: p });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return new Reader(socket);
}

/** The same request through Node's HTTP client (Node's own server path answers it: chunked body). */
function viaNode(body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/",
        headers: { "x-amz-target": `${TARGET}ListClusters`, "transfer-encoding": "chunked" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: text }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("requests the fast path serves", () => {
  test("answered as Node's server answers the same request: status, ECS headers, body", async () => {
    const r = await open();
    const before = nodeRequests;
    r.socket.write(post('{"a":1}'));
    const fast = await r.answer();
    expect(nodeRequests).toBe(before);
    const node = await viaNode('{"a":1}');
    expect(nodeRequests).toBe(before + 1);
    expect(fast.status).toBe(200);
    expect(fast.body).toBe(node.body);
    expect(JSON.parse(fast.body)).toEqual({ clusterArns: [], echo: { a: 1 } });
    for (const h of ["content-type", "connection", "keep-alive"]) expect(fast.headers[h]).toBe(node.headers[h]);
    expect(fast.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(fast.headers.date as string).getTime()).toBeGreaterThan(0);
    // An ECS error the same way.
    r.socket.write(post("{}", "", "Nonsense"));
    const err = await r.answer();
    expect(err.status).toBe(400);
    expect(JSON.parse(err.body).__type).toBe("UnknownOperationException");
    r.socket.destroy();
  });

  test("an answer that cannot be serialized is a 500 ServerException, and the connection goes on", async () => {
    const r = await open();
    r.socket.write(post("{}", "", "ListServices"));
    const a = await r.answer();
    expect(a.status).toBe(500);
    expect(JSON.parse(a.body).__type).toBe("ServerException");
    r.socket.write(post('{"after":"500"}'));
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ after: "500" });
    r.socket.destroy();
  });

  test("answers with characters past ASCII arrive as UTF-8 with their byte length", async () => {
    const r = await open();
    const text = "é ✓ 𝄞 \u0000";
    r.socket.write(post(JSON.stringify({ text })));
    const a = await r.answer();
    expect(JSON.parse(a.body).echo).toEqual({ text });
    expect(Number(a.headers["content-length"])).toBe(Buffer.byteLength(a.body));
    r.socket.destroy();
  });

  test("pipelined requests are answered in order", async () => {
    const r = await open();
    const before = nodeRequests;
    r.socket.write(post('{"n":1}') + post('{"n":2}') + post('{"n":3}'));
    for (const n of [1, 2, 3]) expect(JSON.parse((await r.answer()).body).echo).toEqual({ n });
    expect(nodeRequests).toBe(before);
    r.socket.destroy();
  });

  test("a request arriving in pieces, split at every byte", async () => {
    const bytes = Buffer.from(post('{"piece":"wise"}'));
    const r = await open();
    for (let at = 1; at < bytes.length; at += 7) {
      r.socket.write(bytes.subarray(0, at));
      await new Promise((resolve) => setImmediate(resolve));
      r.socket.write(bytes.subarray(at));
      expect(JSON.parse((await r.answer()).body).echo).toEqual({ piece: "wise" });
    }
    r.socket.destroy();
  });

  test("a client that ends its side after its request still gets the answer, then the connection closes", async () => {
    const r = await open();
    r.socket.end(post('{"last":true}'));
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ last: true });
    await r.close();
  });
});

describe("requests left to Node's HTTP server", () => {
  test("a connection whose first request is an extra route's", async () => {
    const r = await open();
    r.socket.write("GET /health HTTP/1.1\r\nhost: h\r\n\r\n");
    expect(await r.answer()).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    r.socket.write(post('{"after":"route"}'));
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ after: "route" });
    r.socket.destroy();
  });

  test("mid-connection, with the requests behind it in the same write", async () => {
    const r = await open();
    const before = nodeRequests;
    r.socket.write(post('{"n":1}') + "GET /health HTTP/1.1\r\nhost: h\r\n\r\n" + post('{"n":2}'));
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ n: 1 });
    expect((await r.answer()).body).toBe('{"status":"ok"}');
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ n: 2 });
    // The first was read here; the route's request and the one after it by Node.
    expect(nodeRequests).toBe(before + 2);
    r.socket.destroy();
  });

  test("mid-connection, from a client that has ended its side: Node answers the rest, then closes", async () => {
    const r = await open();
    const before = nodeRequests;
    // The client's end comes while the first answer is still being made.
    r.socket.end(post('{"n":1}', "", "DescribeClusters") + "GET /health HTTP/1.1\r\nhost: h\r\n\r\n");
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ n: 1 });
    expect((await r.answer()).body).toBe('{"status":"ok"}');
    expect(nodeRequests).toBe(before + 1);
    await r.close();
  });

  test("a POST to an extra route's path", async () => {
    const r = await open();
    r.socket.write(post("{}").replace("POST / ", "POST /route "));
    expect((await r.answer()).body).toBe("route");
    r.socket.destroy();
  });

  test("Expect: 100-continue gets Node's interim answer, then the ECS answer", async () => {
    const r = await open();
    r.socket.write(post('{"e":1}', "expect: 100-continue\r\n"));
    const interim = await r.answer();
    expect(interim.status).toBe(100);
    expect(JSON.parse((await r.answer()).body).echo).toEqual({ e: 1 });
    r.socket.destroy();
  });

  test("Connection: close is answered, then closed", async () => {
    const r = await open();
    r.socket.write(post('{"c":1}', "connection: close\r\n"));
    const a = await r.answer();
    expect(JSON.parse(a.body).echo).toEqual({ c: 1 });
    expect(a.headers.connection).toBe("close");
    await r.close();
  });

  test("no Host gets Node's 400", async () => {
    const r = await open();
    r.socket.write(post("{}").replace("host: 127.0.0.1\r\n", ""));
    expect((await r.answer()).status).toBe(400);
    await r.close();
  });

  test("malformed heads get Node's 400, oversized ones its 431", async () => {
    const bad = await open();
    bad.socket.write(post("{}", "bad header\r\n"));
    expect((await bad.answer()).status).toBe(400);
    await bad.close();
    const big = await open();
    big.socket.write(post("{}", `x-pad: ${"a".repeat(20 * 1024)}\r\n`));
    expect((await big.answer()).status).toBe(431);
    await big.close();
  });

  test("a body past the edge's limit gets the ECS 413", async () => {
    const r = await open();
    r.socket.write(
      `POST / HTTP/1.1\r\nhost: h\r\nx-amz-target: ${TARGET}ListClusters\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
    );
    r.socket.write(Buffer.alloc(MAX_BODY_BYTES + 1, 32));
    const a = await r.answer();
    expect(a.status).toBe(413);
    expect(JSON.parse(a.body).__type).toBe("ClientException");
    r.socket.destroy();
  });
});

describe("connection lifetime", () => {
  const fast = createServer(() => {});
  let fastPort = 0;
  beforeAll(async () => {
    serveFastPath(fast, {
      maxBodyBytes: 1024,
      serves: () => true,
      serve: (_head, body, reply) => setImmediate(() => reply(200, `content-length: ${body.length}\r\n`, body)),
      keepAliveMs: 100,
      partialRequestMs: 100,
    });
    fastPort = await listen(fast);
  });
  afterAll(() => shut(fast));

  test("an idle keep-alive connection is closed after the keep-alive time", async () => {
    const r = await open(fastPort);
    r.socket.write("POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\nhi");
    expect((await r.answer()).body).toBe("hi");
    await r.close();
  });

  test("a request left unfinished gets a 408", async () => {
    const r = await open(fastPort);
    r.socket.write("POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 10\r\n\r\nhalf");
    expect((await r.answer()).status).toBe(408);
    await r.close();
  });

  test("closing the server ends idle connections and lets one in progress finish", async () => {
    const other = createServer(() => {});
    let release: (() => void) | undefined;
    serveFastPath(other, {
      maxBodyBytes: 1024,
      serves: () => true,
      serve: (_head, body, reply) => {
        release = () => reply(200, `content-length: ${body.length}\r\n`, body);
      },
    });
    const otherPort = await listen(other);
    const idle = await open(otherPort);
    const busy = await open(otherPort);
    busy.socket.write("POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 4\r\n\r\nbusy");
    while (!release) await new Promise((resolve) => setImmediate(resolve));
    const closed = new Promise((resolve) => other.close(resolve));
    await idle.close();
    expect(busy.closed).toBe(false);
    release();
    expect((await busy.answer()).body).toBe("busy");
    await busy.close();
    await closed;
  });
});
