// Proves the test harness itself: a real nats-server that survives kill -9 and restarts on the
// same port with its JetStream store, the waiting helpers, the process spawner, the ECS clients
// (against a stand-in endpoint on loopback) and the label-scoped Docker cleanup.
import { existsSync } from "node:fs";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer } from "node:net";
import { ListClustersCommand } from "@aws-sdk/client-ecs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../support/aws-cli.ts";
import {
  dockerClient,
  removeContainersByLabel,
  removeNetworksByLabel,
  TEST_IMAGE,
  uniqueName,
} from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { type ManagedProcess, spawnProcess } from "../support/processes.ts";
import { expectMessage, waitFor, waitForMessage } from "../support/wait.ts";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("freePort", () => {
  it("returns a loopback port that can be bound", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe("waitFor", () => {
  it("returns the first fact", async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), {
      timeoutMs: 2_000,
      intervalMs: 1,
      what: "three calls",
    });
    expect(value).toEqual({ calls: 3 });
  });

  it("names what it waited for and the last value on the deadline", async () => {
    await expect(waitFor(() => false, { timeoutMs: 50, intervalMs: 5, what: "the impossible" })).rejects.toThrow(
      /timed out after 50 ms waiting for the impossible; last: false/,
    );
    await expect(
      waitFor(
        () => {
          throw new Error("not listening");
        },
        { timeoutMs: 50, intervalMs: 5, what: "a server" },
      ),
    ).rejects.toThrow(/waiting for a server; last: error: not listening/);
  });

  it("cuts off a probe that hangs", async () => {
    const started = Date.now();
    await expect(waitFor(() => new Promise<never>(() => {}), { timeoutMs: 100, what: "a hung probe" })).rejects.toThrow(
      /a hung probe/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("ends at once when its signal aborts", async () => {
    const abort = new AbortController();
    const waiting = waitFor(() => false, { timeoutMs: 30_000, what: "never", signal: abort.signal });
    abort.abort(new Error("the process exited"));
    await expect(waiting).rejects.toThrow("the process exited");
  });
});

describe("nats-server harness", () => {
  let server: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;

  afterEach(async () => {
    await nc?.close().catch(() => {});
    nc = undefined;
    await server?.stop();
    server = undefined;
  });

  it("keeps JetStream data across kill -9 and a restart on the same port", async () => {
    server = await startNatsServer();
    const { url, port, storeDir } = server;
    expect(url).toBe(`nats://127.0.0.1:${port}`);
    expect(existsSync(storeDir)).toBe(true);

    nc = await connect({ servers: url, reconnect: false });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "HARNESS", subjects: ["harness.>"] });
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) await js.publish("harness.one", JSON.stringify({ i }), { msgID: `m-${i}` });
    await nc.close();
    nc = undefined;

    const firstPid = server.pid;
    await server.kill9();
    expect(isAlive(firstPid)).toBe(false);
    await expect(connect({ servers: url, reconnect: false, timeout: 500 })).rejects.toThrow();

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(firstPid);

    nc = await connect({ servers: url, reconnect: false });
    const info = await (await jetstreamManager(nc)).streams.info("HARNESS");
    expect(info.state.messages).toBe(3);
    const last = await (await jetstreamManager(nc)).streams.getMessage("HARNESS", { last_by_subj: "harness.one" });
    expect(last?.json()).toEqual({ i: 2 });

    const pid = server.pid;
    await nc.close();
    nc = undefined;
    await server.stop();
    server = undefined;
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
  });

  it("waits for core NATS messages matching a predicate", async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connect({ servers: server.url, reconnect: false });
    const other = await connect({ servers: server.url, reconnect: false });
    try {
      // waitForMessage subscribes without a flush; expectMessage's flush on the same connection
      // registers both subscriptions before `other` publishes.
      const direct = waitForMessage(nc, "harness.b", () => true, 5_000);
      const armed = await expectMessage(nc, "harness.*", (m) => m.json<{ n: number }>().n === 2, 5_000);
      for (const [subject, n] of [
        ["harness.a", 1],
        ["harness.b", 2],
      ] as const) {
        other.publish(subject, JSON.stringify({ n }));
      }
      expect((await armed.message).subject).toBe("harness.b");
      expect((await direct).json()).toEqual({ n: 2 });
      await expect(waitForMessage(nc, "harness.none", () => true, 50)).rejects.toThrow(/harness.none/);
    } finally {
      await other.close();
    }
  });

  it("fails fast when nats-server cannot start", async () => {
    // An unknown flag makes nats-server exit at once; the harness must not wait for its deadline.
    const started = Date.now();
    await expect(startNatsServer({ args: ["--no-such-flag"], readyTimeoutMs: 20_000 })).rejects.toThrow(/exited/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("process spawner", () => {
  const procs: ManagedProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill9();
  });

  const httpServer = (port: number) =>
    [
      "-e",
      `const s = require("node:http").createServer((q, r) => r.end("ok")).listen(${port}, "127.0.0.1", () => console.log("listening"));` +
        `process.on("SIGINT", () => { console.log("bye"); s.close(() => process.exit(0)); });`,
    ] as const;

  it("waits for HTTP, stops with SIGINT and logs to test-artifacts", async () => {
    const port = await freePort();
    const proc = spawnProcess(process.execPath, [...httpServer(port)], { name: `support-http-${port}` });
    procs.push(proc);
    await proc.waitForHttp(`http://127.0.0.1:${port}/`, 10_000);
    expect(proc.running()).toBe(true);
    const exit = await proc.stop();
    expect(exit.code).toBe(0);
    expect(proc.logFile).toMatch(/test-artifacts\/support-http-\d+\.log$/);
    expect(proc.readLog()).toMatch(/listening[\s\S]*bye/);
  });

  it("kill9 kills the process", async () => {
    const port = await freePort();
    const proc = spawnProcess(process.execPath, [...httpServer(port)], { name: `support-kill-${port}` });
    procs.push(proc);
    await proc.waitForHttp(`http://127.0.0.1:${port}/`, 10_000);
    const exit = await proc.kill9();
    expect(exit.signal).toBe("SIGKILL");
    expect(isAlive(proc.pid)).toBe(false);
  });

  it("fails fast when the process exits before answering", async () => {
    const port = await freePort();
    const proc = spawnProcess(process.execPath, ["-e", 'console.error("boom"); process.exit(3)'], {
      name: `support-exit-${port}`,
    });
    procs.push(proc);
    await expect(proc.waitForHttp(`http://127.0.0.1:${port}/`, 20_000)).rejects.toThrow(/exited \(3\)[\s\S]*boom/);
  });
});

describe("ECS clients", () => {
  // A stand-in endpoint that records what the real clients send and answers ListClusters.
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    const port = await freePort();
    server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify({ clusterArns: ["arn:aws:ecs:eu-west-1:000000000000:cluster/c1"] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("the SDK client signs for the region with dummy credentials", async () => {
    const out = await ecsClient(endpoint, "eu-west-1").send(new ListClustersCommand({}));
    expect(out.clusterArns).toEqual(["arn:aws:ecs:eu-west-1:000000000000:cluster/c1"]);
    const req = seen.at(-1)!;
    expect(req.headers["x-amz-target"]).toBe("AmazonEC2ContainerServiceV20141113.ListClusters");
    expect(req.headers.authorization).toMatch(/Credential=AKIDBERTHTEST0000000\/\d{8}\/eu-west-1\/ecs\/aws4_request/);
  });

  it("the AWS CLI v2 runs with a clean environment and parses JSON", async () => {
    const out = await awsCli(["ecs", "list-clusters"], { endpoint, region: "eu-west-1" });
    expect(out.code, out.stderr).toBe(0);
    expect(out.json).toEqual({ clusterArns: ["arn:aws:ecs:eu-west-1:000000000000:cluster/c1"] });
    const req = seen.at(-1)!;
    expect(req.headers["user-agent"]).toMatch(/^aws-cli\/2\./);
    expect(req.headers.authorization).toMatch(/\/eu-west-1\/ecs\/aws4_request/);
  });
});

describe("docker helpers", () => {
  const label = "berth.test.support";
  const mine = uniqueName("support");
  const other = uniqueName("support-other");
  afterAll(async () => {
    for (const value of [mine, other]) {
      await removeContainersByLabel(label, value);
      await removeNetworksByLabel(label, value);
    }
  });

  it("removes only the containers and networks with the given label value", async () => {
    const docker = dockerClient();
    const make = async (value: string) => {
      await docker.createContainer({
        name: uniqueName("support-c"),
        Image: TEST_IMAGE,
        Cmd: ["true"],
        Labels: { [label]: value },
      });
      await docker.createNetwork({ Name: uniqueName("support-n"), Labels: { [label]: value } });
    };
    await make(mine);
    await make(mine);
    await make(other);

    expect(await removeContainersByLabel(label, mine)).toBe(2);
    expect(await removeNetworksByLabel(label, mine)).toBe(2);
    expect(await removeContainersByLabel(label, mine)).toBe(0);

    const left = await docker.listContainers({ all: true, filters: { label: [`${label}=${other}`] } });
    expect(left).toHaveLength(1);
    await expect(removeContainersByLabel(label, "")).rejects.toThrow(/empty/);
  });
});
