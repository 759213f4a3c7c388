import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import pino from "pino";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import type { ApiServices } from "../../services/api/context.ts";
import { createApiServer, IDLE_KEEP_ALIVE_MS } from "../../services/api/server.ts";
import { ecsClient as cliClient } from "../../services/cli/client.ts";
import { ecsClient as testClient } from "../support/ecs.ts";

/**
 * Keep-alive between the API edge and the SDK clients Berth builds (the CLI's, the tests'): the
 * edge keeps an idle connection as long as it announces on both of its readers, and the clients
 * close an idle connection on the announcement, before the server would. A client that reuses a
 * connection the server is closing gets a reset, "socket hang up", which a client of one attempt
 * reports as a failure.
 */

async function listen(s: Server): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

/** One keep-alive request on a fresh connection: status and headers. */
async function once(port: number, method: string, path: string, body = ""): Promise<{ status: number; headers: Record<string, unknown> }> {
  const agent = new Agent({ keepAlive: true });
  try {
    return await new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, method, path, agent }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on("error", reject);
      req.end(body);
    });
  } finally {
    agent.destroy();
  }
}

describe("the API edge", () => {
  const server = createApiServer({
    services: { account: "000000000000", clock: Date.now } as unknown as ApiServices,
    handlers: { ListClusters: async () => ({ clusterArns: [] }) },
    routes: [{ method: "GET", path: "/health", handle: (_req, res) => void res.end("ok") }],
    defaultRegion: "us-east-1",
    log: pino({ level: "silent" }),
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("keeps an idle connection as long as it announces, on the fast path and on Node's server", async () => {
    const port = await listen(server);
    const announced = `timeout=${IDLE_KEEP_ALIVE_MS / 1000}`;
    const ecs = await once(port, "POST", "/", "{}");
    expect(ecs.status).toBe(400); // no X-Amz-Target: answered on the fast path all the same
    expect(ecs.headers["keep-alive"]).toBe(announced);
    const health = await once(port, "GET", "/health");
    expect(health.status).toBe(200);
    expect(health.headers["keep-alive"]).toBe(announced);
    expect(server.keepAliveTimeout).toBe(IDLE_KEEP_ALIVE_MS);
    // Longer than a minute: past the poll interval of every waiter and poll loop.
    expect(IDLE_KEEP_ALIVE_MS).toBeGreaterThan(60_000);
  });
});

describe("Berth's SDK clients", () => {
  /**
   * A server that announces a 2 s idle limit and keeps idle connections far longer: a connection
   * that ends here was ended by the client.
   */
  const connections: { socket: Socket; ended: Promise<void> }[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "keep-alive": "timeout=2" });
    res.end('{"clusterArns":[]}');
  });
  server.keepAliveTimeout = 600_000;
  server.on("connection", (socket: Socket) => {
    connections.push({ socket, ended: new Promise((resolve) => socket.once("end", () => resolve())) });
  });
  let client: ECSClient | undefined;
  afterEach(() => {
    client?.destroy();
    server.closeAllConnections();
    connections.length = 0;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  test.each([
    ["the CLI's", (endpoint: string) => cliClient({ endpoint, region: "us-east-1", cluster: "default" })],
    ["the tests'", (endpoint: string) => testClient(endpoint)],
  ])("%s closes an idle connection on the server's announcement, and the next call opens a new one", async (_name, make) => {
    const port = server.listening ? (server.address() as AddressInfo).port : await listen(server);
    client = make(`http://127.0.0.1:${port}`);
    await client.send(new ListClustersCommand({}));
    expect(connections).toHaveLength(1);
    // The client's end arrives a second before the announced limit; the server here never closes.
    await (connections[0] as { ended: Promise<void> }).ended;
    await client.send(new ListClustersCommand({}));
    expect(connections).toHaveLength(2);
  }, 30_000);
});
