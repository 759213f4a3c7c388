import { connect, type NatsConnection } from "@nats-io/transport-node";
import { EcsHttp } from "./ecs-http.ts";
import { freePort, type Nats, type Proc, spawnBerth, startNats } from "./processes.ts";
import { since } from "./stats.ts";

export const REGION = "us-east-1";
export const CLUSTER = "bench";
/** The task definition every simulated benchmark runs: small, so 10,000 instances hold 100,000 tasks. */
export const FAMILY = "bench";

/** A control plane (`berth server`) with a simulated fleet (`berth sim`) in cluster `bench`, each on its own. */
export interface SimEnv {
  nats: Nats;
  server: Proc;
  sim: Proc;
  api: EcsHttp;
  nc: NatsConnection;
  endpoint: string;
  /** Seconds the fleet took to register. */
  registerSeconds: number;
  stop(): Promise<void>;
}

export async function simEnv(o: {
  dir: string;
  instances: number;
  sockets?: number;
  /** Directory for a CPU profile of the control plane (node --cpu-prof). */
  profileDir?: string;
  /** Extra node options for the control plane (e.g. --heapsnapshot-signal=SIGUSR2). */
  serverNodeArgs?: string[];
  name: string;
}): Promise<SimEnv> {
  const nats = await startNats(o.dir, `${o.name}-nats`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = spawnBerth(["server", "--nats", nats.url, "--port", String(port), "--lost-agent-timeout", "120"], {
    name: `${o.name}-server`,
    dir: o.dir,
    nodeArgs: [...(o.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${o.profileDir}`] : []), ...(o.serverNodeArgs ?? [])],
  });
  let sim: Proc | undefined;
  const api = new EcsHttp(endpoint, REGION, o.sockets ?? 64);
  let nc: NatsConnection | undefined;
  const stop = async () => {
    api.close();
    await nc?.close().catch(() => {});
    await sim?.stop();
    await server.stop();
    await nats.stop();
  };
  try {
    nc = await connect({ servers: nats.url });
    await server.waitForOutput(/ECS API on/, 120_000);
    await api.call("CreateCluster", { clusterName: CLUSTER });
    await api.call("RegisterTaskDefinition", {
      family: FAMILY,
      containerDefinitions: [{ name: "app", image: "berth-test/busybox:latest", cpu: 64, memory: 128 }],
    });
    const t0 = performance.now();
    sim = spawnBerth(
      ["sim", "--nats", nats.url, "--region", REGION, "--cluster", CLUSTER, "--instances", String(o.instances), "--az-count", "3"],
      { name: `${o.name}-sim`, dir: o.dir },
    );
    await sim.waitForOutput(/hollow instances registered/, 900_000);
    return { nats, server, sim, api, nc, endpoint, registerSeconds: since(t0) / 1000, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** CPU seconds this process has used. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
