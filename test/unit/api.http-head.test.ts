import { describe, expect, test } from "vitest";
import { readHead } from "../../services/api/http-head.ts";

/** What the fast path serves itself and what it leaves to Node's HTTP server (undefined). */

const MAX = 1024 * 1024;
const head = (...lines: string[]) => lines.join("\r\n");
const SDK = [
  "POST / HTTP/1.1",
  "host: 127.0.0.1:8417",
  "content-type: application/x-amz-json-1.1",
  "x-amz-target: AmazonEC2ContainerServiceV20141113.ListClusters",
  "content-length: 2",
  "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=00",
];

describe("readHead", () => {
  test("an SDK request: lower-case names, values trimmed, its length", () => {
    const r = readHead(head(...SDK), MAX);
    expect(r?.request.url).toBe("/");
    expect(r?.length).toBe(2);
    expect(r?.request.method).toBe("POST");
    expect(r?.request.headers["x-amz-target"]).toBe("AmazonEC2ContainerServiceV20141113.ListClusters");
    expect(r?.request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID/);
    expect(r?.request.headersDistinct.host).toEqual(["127.0.0.1:8417"]);
  });

  test("spaces and tabs around a value are not part of it; a path with a query is kept whole", () => {
    const r = readHead(head("POST /base/?a=1 HTTP/1.1", "Host: h", "Content-Length:\t 7 \t", "X-Amz-Target:  T  "), MAX);
    expect(r?.request.url).toBe("/base/?a=1");
    expect(r?.length).toBe(7);
    expect(r?.request.headers["x-amz-target"]).toBe("T");
  });

  test("a value with a long run of spaces inside keeps it; only the ends are trimmed", () => {
    const r = readHead(head(...SDK, `x-pad: a${" ".repeat(15_000)}b `), MAX);
    expect(r?.request.headers["x-pad"]).toBe(`a${" ".repeat(15_000)}b`);
  });

  test("Connection: keep-alive is served here", () => {
    expect(readHead(head(...SDK, "Connection: Keep-Alive"), MAX)).toBeDefined();
  });

  test.each([
    ["another method", head("GET / HTTP/1.1", "host: h", "content-length: 0")],
    ["HTTP/1.0", head("POST / HTTP/1.0", "host: h", "content-length: 0")],
    ["an absolute request target", head("POST http://h/ HTTP/1.1", "host: h", "content-length: 0")],
    ["a space inside the target", head("POST /a b HTTP/1.1", "host: h", "content-length: 0")],
    ["no Content-Length", head("POST / HTTP/1.1", "host: h")],
    ["no Host", head("POST / HTTP/1.1", "content-length: 0")],
    ["a chunked body", head(...SDK, "transfer-encoding: chunked")],
    ["Expect", head(...SDK, "expect: 100-continue")],
    ["Upgrade", head(...SDK, "upgrade: websocket")],
    ["Connection: close", head(...SDK, "connection: close")],
    ["a header sent twice", head(...SDK, "Host: other")],
    ["Content-Length twice", head(...SDK, "content-length: 2")],
    ["a Content-Length that is not a number", head("POST / HTTP/1.1", "host: h", "content-length: 2x")],
    ["a negative Content-Length", head("POST / HTTP/1.1", "host: h", "content-length: -1")],
    ["a body past the limit", head("POST / HTTP/1.1", "host: h", `content-length: ${MAX + 1}`)],
    ["a line without a colon", head(...SDK, "nonsense")],
    ["an empty header name", head(...SDK, ": v")],
    ["a space in a header name", head(...SDK, "x y: v")],
    ["a space before the colon", head(...SDK, "x-y : v")],
    ["a folded line", head(...SDK, " continued")],
    ["a control character in a value", head(...SDK, "x-y: a\u0001b")],
    ["a bare CR in a value", head(...SDK, "x-y: a\rb")],
    ["no headers at all", "POST / HTTP/1.1"],
  ])("left to Node: %s", (_why, text) => {
    expect(readHead(text, MAX)).toBeUndefined();
  });
});
