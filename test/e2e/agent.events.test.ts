import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerName, LogStreamMessage, LogsReply, labels } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { type Agent, startAgent } from "../../services/agent/agent.ts";
import { dockerodePort } from "../../services/agent/docker/dockerode.ts";
import { DockerError, type DockerPort, type EventStream } from "../../services/agent/docker/port.ts";
import { OOM_REASON } from "../../services/agent/observation.ts";
import { type AgentDriver, startAgentDriver, taskSpec } from "../support/agent-driver.ts";
import { dockerClient, removeContainersByLabel } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";

const docker = dockerClient();
const logger = pino({ level: process.env.BERTH_LOG_LEVEL ?? "silent" });

/**
 * The real Docker port, with a hand on the event stream (tests can break it and hold reconnects,
 * or keep `oom` events from it as if they came late), on Docker's log of a container's events
 * (tests can hide its `oom` events) and on inspect's OOMKilled (tests can clear it, as Docker
 * 20.10 on cgroup v2 sometimes does).
 */
function breakableDocker() {
  const real = dockerodePort();
  const streams: EventStream[] = [];
  let blocked = false;
  let clearOomKilled = false;
  let oomFromStream = true;
  let oomFromLog = true;
  const port: DockerPort = {
    ...real,
    async inspectContainer(id, o) {
      const info = await real.inspectContainer(id, o);
      return clearOomKilled ? { ...info, state: { ...info.state, oomKilled: false } } : info;
    },
    async containerEvents(l, o) {
      if (blocked) throw new DockerError("retriable", "event stream held down by the test");
      const s = await real.containerEvents(l, o);
      streams.push(s);
      return {
        close: () => s.close(),
        async *[Symbol.asyncIterator]() {
          for await (const e of s) if (oomFromStream || e.action !== "oom") yield e;
        },
      };
    },
    async containerEventsBetween(id, o) {
      const events = await real.containerEventsBetween(id, o);
      return events.filter((e) => oomFromLog || e.action !== "oom");
    },
  };
  return {
    port,
    streams,
    breakStream() {
      blocked = true;
      for (const s of streams) s.close();
    },
    allowReconnect() {
      blocked = false;
    },
    /** Inspect loses OOMKilled; the `oom` event is seen only where `sources` say. */
    oomKillHidden(on: boolean, sources: { stream: boolean; log: boolean } = { stream: true, log: true }) {
      clearOomKilled = on;
      oomFromStream = !on || sources.stream;
      oomFromLog = !on || sources.log;
    },
  };
}

let driver: AgentDriver;
let dataDir: string;
let agent: Agent;
const dockerHandle = breakableDocker();

beforeAll(async () => {
  driver = await startAgentDriver();
  dataDir = mkdtempSync(join(tmpdir(), "berth-agent-ev-"));
  agent = await startAgent({
    taskCleanupWaitMs: 0,
    nc: driver.nc,
    region: driver.region,
    cluster: driver.cluster,
    dataDir,
    logger,
    docker: dockerHandle.port,
    stopTimeoutSeconds: 2,
  });
});

afterAll(async () => {
  await agent?.stop();
  if (driver) await removeContainersByLabel(labels.cluster, driver.cluster);
  await driver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("agent Docker event stream", () => {
  const oomKilled = async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [{ name: "hog", memory: 16, command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"] }],
    });
    await driver.startTask(agent.instanceId, spec);
    const first = await driver.waitForContainer(spec.taskArn, "hog", (o) => o.status === "STOPPED");
    return { spec, first };
  };

  it("reports an OOM kill from Docker's log of the container's events when inspect has lost OOMKilled", async () => {
    dockerHandle.oomKillHidden(true, { stream: false, log: true });
    try {
      const { first } = await oomKilled();
      expect(first.exitCode).toBe(137);
      expect(first.reason).toBe(OOM_REASON);
    } finally {
      dockerHandle.oomKillHidden(false);
    }
  });

  it("reports an OOM kill from the oom event on the stream when inspect has lost OOMKilled, again if the event came after the exit", async () => {
    dockerHandle.oomKillHidden(true, { stream: true, log: false });
    try {
      // The stream's `oom` event may arrive after the exit was inspected and reported without a
      // reason (the container dies at once); the agent then reports the kill again, with it.
      const { spec } = await oomKilled();
      const withReason = await driver.waitForContainer(
        spec.taskArn,
        "hog",
        (o) => o.status === "STOPPED" && o.reason !== undefined,
      );
      expect(withReason.exitCode).toBe(137);
      expect(withReason.reason).toBe(OOM_REASON);
    } finally {
      dockerHandle.oomKillHidden(false);
    }
  });

  it("repairs from a full listing after the event stream breaks: an exit missed meanwhile is reported", async () => {
    const trap = ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 1; done"];
    const spec = taskSpec({ cluster: driver.cluster, containers: [{ name: "w", command: trap }] });
    await driver.startTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "w", (o) => o.status === "RUNNING");

    dockerHandle.breakStream();
    await docker.getContainer(containerName(spec.taskId, "w")).stop({ t: 10 });
    expect(driver.containerObservations(spec.taskArn, "w").some((o) => o.status === "STOPPED")).toBe(false);

    dockerHandle.allowReconnect();
    const stopped = await driver.waitForContainer(spec.taskArn, "w", (o) => o.status === "STOPPED", 30_000);
    expect(stopped.exitCode).toBe(42);
  });
});

describe("agent and a NATS outage", () => {
  it("keeps a fact that happened while NATS was down and stores it once NATS is back", async () => {
    const trap = ["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 1; done"];
    const spec = taskSpec({ cluster: driver.cluster, containers: [{ name: "n", command: trap }] });
    await driver.startTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "n", (o) => o.status === "RUNNING");

    await driver.nats.kill9();
    await docker.getContainer(containerName(spec.taskId, "n")).stop({ t: 10 });
    await driver.nats.restart();
    const stopped = await driver.waitForContainer(spec.taskArn, "n", (o) => o.status === "STOPPED", 45_000);
    expect(stopped.exitCode).toBe(42);
    await waitFor(
      async () =>
        (await docker.listContainers({ all: true, filters: { label: [`${labels.taskArn}=${spec.taskArn}`] } }))
          .length === 0,
      { timeoutMs: 20_000, what: "the task removed once its STOPPED fact was stored" },
    );
  });
});

describe("agent logs", () => {
  it("answers with a container's stdout and stderr, and follows a container until it stops", async () => {
    const spec = taskSpec({
      cluster: driver.cluster,
      containers: [
        { name: "app", command: ["sh", "-c", "echo to-out; echo to-err >&2; sleep 300"] },
        { name: "talker", essential: false, command: ["sh", "-c", "echo one; sleep 2; echo two"] },
      ],
    });
    await driver.startTask(agent.instanceId, spec);
    await driver.waitForContainer(spec.taskArn, "app", (o) => o.status === "RUNNING");
    await driver.waitForContainer(spec.taskArn, "talker", (o) => o.status === "RUNNING");

    const logsSubject = subjects.logs(driver.region, agent.instanceId);
    const reply = await waitFor(
      async () => {
        const m = await driver.nc.request(logsSubject, JSON.stringify({ taskArn: spec.taskArn, container: "app" }), {
          timeout: 5_000,
        });
        const r = LogsReply.parse(m.json());
        return r.ok && r.chunks.length >= 2 ? r : undefined;
      },
      { timeoutMs: 10_000, what: "both lines of app's output" },
    );
    expect(reply.chunks).toContainEqual({ stream: "stdout", data: "to-out\n" });
    expect(reply.chunks).toContainEqual({ stream: "stderr", data: "to-err\n" });

    // The request names a stream id only; the agent publishes under its own instance's subject.
    const streamId = "follow-talker";
    const received: LogStreamMessage[] = [];
    const sub = driver.nc.subscribe(subjects.logStream(driver.region, agent.instanceId, streamId), {
      callback: (_e, m) => {
        received.push(LogStreamMessage.parse(m.json()));
      },
    });
    const follow = await driver.nc.request(
      logsSubject,
      JSON.stringify({ taskArn: spec.taskArn, container: "talker", follow: true, streamId }),
      { timeout: 5_000 },
    );
    expect(LogsReply.parse(follow.json())).toMatchObject({ ok: true, following: true, container: "talker" });
    await waitFor(() => received.find((m) => m.type === "end"), {
      timeoutMs: 15_000,
      what: "the end of the followed log",
    });
    sub.unsubscribe();
    const text = received.map((m) => (m.type === "chunk" ? m.data : "")).join("");
    expect(text).toBe("one\ntwo\n");
    expect(received.at(-1)).toEqual({ type: "end", reason: "stopped" });

    // A follow whose reader went away ends on a cancel, long before its deadline.
    const cancelId = "follow-app";
    const ends: LogStreamMessage[] = [];
    const cancelSub = driver.nc.subscribe(subjects.logStream(driver.region, agent.instanceId, cancelId), {
      callback: (_e, m) => {
        const msg = LogStreamMessage.parse(m.json());
        if (msg.type === "end") ends.push(msg);
      },
    });
    const long = await driver.nc.request(
      logsSubject,
      JSON.stringify({ taskArn: spec.taskArn, container: "app", follow: true, streamId: cancelId, followMs: 600_000 }),
      { timeout: 5_000 },
    );
    expect(LogsReply.parse(long.json())).toMatchObject({ ok: true, following: true });
    driver.nc.publish(logsSubject, JSON.stringify({ cancel: cancelId }));
    await waitFor(() => ends[0], { timeoutMs: 10_000, what: "the cancelled follow's end" });
    cancelSub.unsubscribe();
    expect(ends).toEqual([{ type: "end", reason: "cancelled" }]);

    const missing = LogsReply.parse(
      (await driver.nc.request(logsSubject, JSON.stringify({ taskArn: "arn:nope" }), { timeout: 5_000 })).json(),
    );
    expect(missing).toMatchObject({ ok: false, code: "ResourceNotFoundException" });
    // A stream id that is not one subject token could reach outside the instance's log streams.
    const outside = LogsReply.parse(
      (
        await driver.nc.request(
          logsSubject,
          JSON.stringify({ taskArn: spec.taskArn, container: "talker", follow: true, streamId: "x.>" }),
          { timeout: 5_000 },
        )
      ).json(),
    );
    expect(outside).toMatchObject({ ok: false, code: "InvalidParameterException" });
  });
});
