import type { Msg, NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { type LogStreamMessage, labels } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { DockerError, type DockerPort } from "../../services/agent/docker/port.ts";
import { serveLogs } from "../../services/agent/logs.ts";

/**
 * The agent's logs handler over a NATS connection and a Docker port played here: how a followed
 * log ends. A cancel can come while Docker's call has not begun streaming yet, and the port then
 * fails the call as aborted; that follow ends "cancelled", not "error".
 */

const REGION = "us-east-1";
const INSTANCE = "i1";
const TASK = "arn:aws:ecs:us-east-1:000000000000:task/c/t1";

/** A Docker port whose follow never streams: it waits for its signal, then fails as aborted. */
const stuckDocker = {
  listContainers: async () => [
    { id: "c1", name: "x", state: "running", labels: { [labels.taskArn]: TASK, [labels.containerName]: "app" } },
  ],
  logs: (_id: string, _opts: unknown, _onChunk: unknown, o?: { signal?: AbortSignal }) =>
    new Promise<void>((_resolve, reject) =>
      o?.signal?.addEventListener("abort", () => reject(new DockerError("retriable", "logs: timed out or aborted"))),
    ),
} as unknown as DockerPort;

function agentOn() {
  let handler: ((err: unknown, m: Msg) => void) | undefined;
  const published: { subject: string; msg: LogStreamMessage }[] = [];
  const nc = {
    subscribe: (_subject: string, o: { callback: (err: unknown, m: Msg) => void }) => {
      handler = o.callback;
      return { unsubscribe() {} };
    },
    publish: (subject: string, data: string) => void published.push({ subject, msg: JSON.parse(data) }),
  } as unknown as NatsConnection;
  serveLogs({ nc, docker: stuckDocker, region: REGION, instanceId: INSTANCE, log: pino({ level: "silent" }), signal: new AbortController().signal });
  const send = (body: object) =>
    new Promise<unknown>((resolve) =>
      handler?.(null, { json: () => body, respond: (r: string) => resolve(JSON.parse(r)) } as unknown as Msg),
    );
  return { send, published };
}

describe("a followed log", () => {
  it("ends cancelled when a cancel aborts Docker's call before it streamed", async () => {
    const { send, published } = agentOn();
    expect(await send({ taskArn: TASK, follow: true, streamId: "s1", followMs: 600_000 })).toMatchObject({ following: true });
    void send({ cancel: "s1" });
    await expect.poll(() => published.length).toBe(1);
    expect(published).toEqual([
      { subject: subjects.logStream(REGION, INSTANCE, "s1"), msg: { type: "end", reason: "cancelled" } },
    ]);
  });

  it("ends at its deadline as deadline, even when Docker's call had not begun streaming", async () => {
    const { send, published } = agentOn();
    await send({ taskArn: TASK, follow: true, streamId: "s2", followMs: 1 });
    await expect.poll(() => published.length).toBe(1);
    expect(published[0]?.msg).toEqual({ type: "end", reason: "deadline" });
  });
});
