import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { serveFastPath } from "../api/fast-http.ts";
import { MAX_BODY_BYTES } from "../api/server.ts";

/**
 * The floor under the API figures: a bare server that answers each ECS action with bytes fixed in
 * advance (what Berth answered to the same request), under the same headers, after reading the
 * whole request as Berth does — through the same HTTP reading as Berth's API edge (its fast path
 * in front of Node's HTTP server, fast-http.ts). What is left between it and Berth is Berth's own
 * work; what is left between it and the target is the machine's (sockets, HTTP, the load
 * generator). Run as a process of its own, as `berth server` is:
 *
 *   node --import tsx fixed-answer-server.ts <answers.json> <port>
 *
 * where answers.json maps action names to answers in base64. Prints `listening <port>`.
 */

const [file, port] = process.argv.slice(2);
if (!file || !port) {
  console.error("usage: fixed-answer-server.ts <answers.json> <port>");
  process.exit(2);
}
const PREFIX = "AmazonEC2ContainerServiceV20141113.";
const answers = new Map(
  Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, string>).map(([action, b64]) => [
    action,
    Buffer.from(b64, "base64"),
  ]),
);

const answerOf = (target: unknown) =>
  typeof target === "string" && target.startsWith(PREFIX) ? answers.get(target.slice(PREFIX.length)) : undefined;
const NO_ANSWER = '{"__type":"UnknownOperationException","message":"no fixed answer for this action"}';

const server = createServer((req, res) => {
  const answer = answerOf(req.headers["x-amz-target"]);
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    void Buffer.concat(chunks);
    if (!answer) {
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      res.end(NO_ANSWER);
      return;
    }
    res.writeHead(200, {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-requestid": randomUUID(),
      "content-length": answer.length,
    });
    res.end(answer);
  });
});
serveFastPath(server, {
  maxBodyBytes: MAX_BODY_BYTES,
  serves: () => true,
  serve: (head, _body, reply) => {
    const answer = answerOf(head.headers["x-amz-target"]);
    if (!answer)
      reply(400, `content-type: application/x-amz-json-1.1\r\ncontent-length: ${Buffer.byteLength(NO_ANSWER)}\r\n`, NO_ANSWER);
    else
      reply(
        200,
        `content-type: application/x-amz-json-1.1\r\nx-amzn-requestid: ${randomUUID()}\r\ncontent-length: ${answer.length}\r\n`,
        answer,
      );
  },
});
server.listen(Number(port), "127.0.0.1", () => console.log(`listening ${port}`));
process.on("SIGINT", () => server.close(() => process.exit(0)));
process.on("SIGTERM", () => process.exit(0));
