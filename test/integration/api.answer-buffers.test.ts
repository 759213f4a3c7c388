import { type AddressInfo, connect } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ApiServices } from "../../services/api/context.ts";
import { RawJson } from "../../services/api/raw-json.ts";
import { createApiServer } from "../../services/api/server.ts";

/**
 * Answers joined into pooled buffers (raw-json.ts) over real sockets: a buffer goes back to the
 * pool only once its answer has left, so many large answers queued for slow readers each arrive
 * whole and unmixed. (Given back as soon as the answer is handed to `res.end`, the test fails:
 * queued answers are overwritten by later ones.)
 */

const TARGET = "AmazonEC2ContainerServiceV20141113.DescribeTasks";
// Each answer is ~200 kB in 100 pieces: one pooled buffer (256 kB) each.
const PIECES = 100;
const PIECE = 2000;

const server = createApiServer({
  services: { account: "000000000000", clock: Date.now } as unknown as ApiServices,
  handlers: {
    DescribeTasks: async (input) => {
      const n = Number(input.n);
      const fill = String.fromCharCode(97 + (n % 26));
      const parts = [Buffer.from(`{"n":${n},"pad":"`)];
      for (let i = 0; i < PIECES; i++) parts.push(Buffer.from(fill.repeat(PIECE)));
      parts.push(Buffer.from('"}'));
      return new RawJson(parts);
    },
  },
  defaultRegion: "us-east-1",
  log: pino({ level: "silent" }),
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/**
 * `count` requests pipelined on one connection, their answers read in small steps with the socket
 * paused in between: the server's writes back up, later answers wait queued behind earlier ones,
 * and a buffer given back too early would be refilled while its bytes are still to be sent.
 */
function pipelined(first: number, count: number, extraHeaders = ""): Promise<{ n: number; pad: string }[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let size = 0;
    const answers: { n: number; pad: string }[] = [];
    socket.on("error", reject);
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      socket.pause();
      setImmediate(() => socket.resume());
      // Take every complete answer off the front: head, then Content-Length bytes of body.
      let all = Buffer.concat(chunks, size);
      try {
        for (;;) {
          const end = all.indexOf("\r\n\r\n");
          if (end < 0) break;
          const length = Number(/content-length: *(\d+)/i.exec(all.toString("latin1", 0, end))?.[1]);
          if (all.length < end + 4 + length) break;
          answers.push(JSON.parse(all.toString("utf8", end + 4, end + 4 + length)));
          all = all.subarray(end + 4 + length);
        }
      } catch (err) {
        socket.destroy();
        reject(err);
        return;
      }
      chunks.length = 0;
      chunks.push(all);
      size = all.length;
      if (answers.length === count) {
        socket.destroy();
        resolve(answers);
      }
    });
    let out = "";
    for (let n = first; n < first + count; n++) {
      const body = JSON.stringify({ n });
      out += `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-amz-target: ${TARGET}\r\ncontent-type: application/x-amz-json-1.1\r\n${extraHeaders}content-length: ${body.length}\r\n\r\n${body}`;
    }
    socket.write(out);
  });
}

describe("answers from pooled buffers", () => {
  test.each([
    ["the edge's fast path", ""],
    // A header sent twice: the fast path leaves these connections to Node's HTTP server.
    ["Node's HTTP server", "x-via: a\r\nx-via: b\r\n"],
  ])("many large answers queued to slow readers each arrive whole, none overwritten by another (%s)", {
    timeout: 30_000,
  }, async (_reader, extraHeaders) => {
    // 2 connections × 60 pipelined calls (12 MB each): more answers queued than the pool keeps (32).
    const runs = await Promise.all([0, 60].map((first) => pipelined(first, 60, extraHeaders)));
    const answers = runs.flat();
    expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 120 }, (_, n) => n));
    for (const a of answers) {
      expect(a.pad.length).toBe(PIECES * PIECE);
      expect(a.pad).toBe(String.fromCharCode(97 + (a.n % 26)).repeat(PIECES * PIECE));
    }
  });
});
