import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { AnswerReader, LoadConnection, prebuiltRequest } from "../../services/bench/ecs-load.ts";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw server answering the first request with `answer`, then doing `then` with the socket. */
function rawServer(answer: string, then: (s: Socket) => void = () => {}): Server {
  return createServer((socket) => {
    socket.once("data", () => {
      socket.write(answer);
      then(socket);
    });
  });
}

describe("LoadConnection", () => {
  test("receives whole answers of every size, one after another on one connection", async () => {
    const sizes = [0, 10, 200_000, 3];
    let i = 0;
    const seen: { target: string | undefined; body: string }[] = [];
    const endpoint = await listen(
      createHttpServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          seen.push({ target: req.headers["x-amz-target"] as string | undefined, body });
          const payload = Buffer.alloc(sizes[i++] as number, "x");
          res.writeHead(200, { "content-length": payload.length });
          res.end(payload);
        });
      }),
    );
    const conn = await LoadConnection.open(endpoint);
    const request = prebuiltRequest(endpoint, "us-east-1", "ListTasks", '{"cluster":"é"}');
    for (const size of sizes) expect(await conn.send(request)).toEqual({ status: 200, bytes: size });
    conn.close();
    expect(seen[0]).toEqual({ target: "AmazonEC2ContainerServiceV20141113.ListTasks", body: '{"cluster":"é"}' });
  });

  test("reads a head and body split across chunks and reports the status", () => {
    const reader = new AnswerReader();
    const chunks = ["HTTP/1.1 400 Bad Request\r\nConte", "nt-Length: 4\r\n", "\r\nab", "cd"].map((c) => Buffer.from(c));
    const answers = chunks.map((c) => reader.feed(c));
    expect(answers).toEqual([undefined, undefined, undefined, { status: 400, bytes: 4 }]);
    // The next answer on the same connection starts afresh.
    reader.reset();
    expect(reader.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))).toEqual({ status: 200, bytes: 0 });
  });

  test("a chunk's buffer may be reused by the caller once fed", () => {
    const reader = new AnswerReader();
    const buffer = Buffer.from("HTTP/1.1 200 OK\r\nContent-Le");
    expect(reader.feed(buffer)).toBeUndefined();
    buffer.fill("x");
    expect(reader.feed(Buffer.from("ngth: 2\r\n\r\nok"))).toEqual({ status: 200, bytes: 2 });
  });

  test("a body asked for is kept whole, as copies of the chunks it came in", () => {
    const reader = new AnswerReader();
    reader.reset(true);
    const chunk = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
    expect(reader.feed(chunk)).toBeUndefined();
    chunk.fill("x");
    expect(reader.feed(Buffer.from("lo"))).toEqual({ status: 200, bytes: 5, body: Buffer.from("hello") });
    reader.reset();
    expect(reader.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))).toEqual({ status: 200, bytes: 2 });
  });

  test("bytes past Content-Length are an error", () => {
    expect(() => new AnswerReader().feed(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab"))).toThrow("more bytes than Content-Length");
  });

  test("an answer cut short or without Content-Length is an error, and the connection is closed", async () => {
    const cut = await listen(rawServer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", (s) => s.destroy()));
    const a = await LoadConnection.open(cut);
    await expect(a.send(Buffer.from("POST / HTTP/1.1\r\n\r\n"))).rejects.toThrow("connection closed");
    expect(a.open).toBe(false);

    const chunked = await listen(
      rawServer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    );
    const b = await LoadConnection.open(chunked);
    await expect(b.send(Buffer.from("POST / HTTP/1.1\r\n\r\n"))).rejects.toThrow("unexpected response head");
    expect(b.open).toBe(false);
  });
});
