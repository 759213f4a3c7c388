import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { subjects } from "../../events/names.ts";
import { EcsHttp } from "./ecs-http.ts";
import { freePort, type Nats, type Proc, spawnBerth, startNats } from "./processes.ts";
import { since } from "./stats.ts";
import { TaskWatch } from "./watch.ts";

/**
 * Berth on a real Docker engine beside the engine itself and beside Docker Swarm, each measured
 * in the same run on the same engine:
 *
 *   runTask      RunTask → RUNNING (TaskStarted in the log) vs `docker run -d` returning
 *   replacement  `docker kill` of a service task → its replacement RUNNING, vs a Swarm service
 *   scaleOut     a service 0 → N vs N `docker run -d` at once, vs `docker service scale`
 *
 * Samples of Berth and of its comparison alternate, so a change in the machine's load hits both.
 * Containers are labelled with this run's tag and removed by it; Swarm is left only if this
 * benchmark initialised it.
 */

const run = promisify(execFile);
export const IMAGE = "berth-test/busybox:latest";
const REGION = "us-east-1";
const LABEL = "berth.bench";

export interface DockerEnv {
  tag: string;
  cluster: string;
  api: EcsHttp;
  watch: TaskWatch;
  docker: Docker;
  stop(): Promise<void>;
}

export async function dockerAvailable(): Promise<string | undefined> {
  try {
    const v = await new Docker().version();
    return v.Version;
  } catch {
    return undefined;
  }
}

/**
 * Whether the engine holds an image (by default the benchmarks'). There is no registry to pull
 * the benchmarks' image from: without it every RunTask would wait on a pull that cannot succeed,
 * so the run stops before it starts.
 */
export async function imagePresent(image = IMAGE, docker = new Docker()): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

/** A control plane and a real agent (`berth agent`) on this machine's Docker engine. */
export async function dockerEnv(dir: string): Promise<DockerEnv> {
  const tag = `bench-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const cluster = tag;
  const nats: Nats = await startNats(dir, `${tag}-nats`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `${tag}-`));
  const server = spawnBerth(["server", "--nats", nats.url, "--port", String(port), "--lost-agent-timeout", "60"], { name: `${tag}-server`, dir });
  let agent: Proc | undefined;
  const api = new EcsHttp(`http://127.0.0.1:${port}`, REGION, 64);
  const docker = new Docker();
  let watch: TaskWatch | undefined;
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: nats.url });
  const stop = async () => {
    await watch?.stop().catch(() => {});
    api.close();
    await agent?.stop();
    await server.stop();
    await removeLabelled(docker, "berth.cluster", cluster);
    await removeLabelled(docker, LABEL, tag);
    await nc.close().catch(() => {});
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await server.waitForOutput(/ECS API on/, 120_000);
    await api.call("CreateCluster", { clusterName: cluster });
    agent = spawnBerth(["agent", "--nats", nats.url, "--cluster", cluster, "--data-dir", dataDir, "--name", cluster], {
      name: `${tag}-agent`,
      dir,
      // The image is local (there is no registry here): as ECS_IMAGE_PULL_BEHAVIOR=prefer-cached, no pull per start.
      // Stopped tasks' containers are removed at once: rounds do not pile them up in the engine that
      // the comparisons (docker run, Swarm) share.
      env: { BERTH_CONTAINER_STOP_TIMEOUT: "1", BERTH_IMAGE_PULL_BEHAVIOR: "prefer-cached", BERTH_TASK_CLEANUP_WAIT: "0s" },
    });
    await agent.waitForOutput(/container instance/, 120_000);
    await api.call("RegisterTaskDefinition", {
      family: "sleeper",
      containerDefinitions: [{ name: "app", image: IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 1 }],
    });
    watch = await TaskWatch.start(nc, subjects.tasksOfCluster(REGION, cluster));
    return { tag, cluster, api, watch, docker, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `docker run -d` of the same image and command; resolves when the CLI has returned (container started). */
async function dockerRun(tag: string, name: string): Promise<void> {
  await run("docker", ["run", "-d", "--name", name, "--label", `${LABEL}=${tag}`, IMAGE, "sleep", "3600"]);
}

async function removeLabelled(docker: Docker, label: string, value: string): Promise<void> {
  const found = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } }).catch(() => []);
  await Promise.all(
    found
      .filter((c) => c.Labels?.[label] === value)
      .map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})),
  );
}

const idOf = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

// ── RunTask vs docker run ───────────────────────────────────────────────────────────────────────

export interface Pairs {
  berth: number[];
  raw: number[];
}

export async function runTaskVsDockerRun(env: DockerEnv, samples: number): Promise<Pairs> {
  const out: Pairs = { berth: [], raw: [] };
  const started: string[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const r = await env.api.call<{ tasks: { taskArn: string }[] }>("RunTask", { cluster: env.cluster, taskDefinition: "sleeper" });
    const arn = r.tasks[0]?.taskArn as string;
    const id = idOf(arn);
    await env.watch.until(() => env.watch.started.has(id), 60_000, `task ${id} RUNNING`);
    out.berth.push((env.watch.started.get(id) as number) - t0);
    started.push(arn);

    const t1 = performance.now();
    await dockerRun(env.tag, `${env.tag}-run-${i}`);
    out.raw.push(since(t1));
  }
  for (const arn of started) await env.api.call("StopTask", { cluster: env.cluster, task: arn });
  await env.watch.until(() => started.every((a) => env.watch.stopped.has(idOf(a))), 120_000, "benchmark tasks STOPPED");
  await removeLabelled(env.docker, LABEL, env.tag);
  return out;
}

// ── replacement after docker kill ───────────────────────────────────────────────────────────────

/** Containers of the task, found by the agent's labels. */
async function containersOfTask(docker: Docker, taskId: string): Promise<string[]> {
  const found = await docker.listContainers({ filters: { label: [`berth.task-id=${taskId}`], status: ["running"] } });
  return found.map((c) => c.Id);
}

export async function berthReplacement(env: DockerEnv, samples: number): Promise<number[]> {
  const name = `repl-${env.tag}`;
  await env.api.call("CreateService", { cluster: env.cluster, serviceName: name, taskDefinition: "sleeper", desiredCount: 1 });
  const out: number[] = [];
  let current = await waitServiceTask(env, name, new Set());
  for (let i = 0; i < samples; i++) {
    const seen = new Set(env.watch.started.keys());
    const [container] = await containersOfTask(env.docker, current);
    if (!container) throw new Error(`no running container for task ${current}`);
    const t0 = performance.now();
    await env.docker.getContainer(container).kill({ signal: "SIGKILL" });
    current = await waitServiceTask(env, name, seen);
    out.push((env.watch.started.get(current) as number) - t0);
  }
  await env.api.call("DeleteService", { cluster: env.cluster, service: name, force: true });
  return out;
}

/** The id of a RUNNING task of the service not in `seen`. */
async function waitServiceTask(env: DockerEnv, service: string, seen: Set<string>): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const fresh = [...env.watch.started.keys()].find((id) => !seen.has(id));
    if (fresh) {
      const d = await env.api.call<{ tasks: { group: string }[] }>("DescribeTasks", { cluster: env.cluster, tasks: [fresh] });
      if (d.tasks[0]?.group === `service:${service}`) return fresh;
      seen.add(fresh);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`no new RUNNING task of service ${service}`);
    await env.watch.until(() => [...env.watch.started.keys()].some((id) => !seen.has(id)), Math.max(1, deadline - Date.now()), `a new task of ${service}`).catch(() => {});
  }
}

// ── Docker Swarm ────────────────────────────────────────────────────────────────────────────────

export interface Swarm {
  /** True when this benchmark initialised it (then it leaves it afterwards). */
  initialised: boolean;
  leave(): Promise<void>;
}

export async function ensureSwarm(docker: Docker): Promise<Swarm> {
  const info = await docker.info();
  const state = info.Swarm?.LocalNodeState;
  if (state === "active") return { initialised: false, leave: async () => {} };
  await run("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1"]);
  return {
    initialised: true,
    leave: async () => {
      await run("docker", ["swarm", "leave", "--force"]).catch(() => {});
    },
  };
}

/** Waits until `n` containers of the Swarm service run; resolves with their ids. */
async function swarmRunning(docker: Docker, service: string, n: number, timeoutMs = 180_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`], status: ["running"] } });
    if (found.length >= n) return found.map((c) => c.Id);
    if (Date.now() > deadline) throw new Error(`Swarm service ${service}: ${found.length} of ${n} containers running`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function swarmService(tag: string, name: string, replicas: number): Promise<void> {
  await run("docker", [
    "service", "create", "--detach", "--no-resolve-image", "--name", name, "--replicas", String(replicas),
    "--restart-delay", "0s", "--container-label", `${LABEL}=${tag}`, "--label", `${LABEL}=${tag}`, IMAGE, "sleep", "3600",
  ]);
}

export async function swarmReplacement(env: DockerEnv, samples: number): Promise<number[]> {
  const name = `repl-${env.tag}`;
  await swarmService(env.tag, name, 1);
  try {
    let [current] = await swarmRunning(env.docker, name, 1);
    const out: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await env.docker.getContainer(current as string).kill({ signal: "SIGKILL" });
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ids = await swarmRunning(env.docker, name, 1, Math.max(1, deadline - Date.now()));
        const next = ids.find((id) => id !== current);
        if (next) {
          out.push(since(t0));
          current = next;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return out;
  } finally {
    await run("docker", ["service", "rm", name]).catch(() => {});
    await removeLabelled(env.docker, LABEL, env.tag);
  }
}

// ── scale-out ───────────────────────────────────────────────────────────────────────────────────

export async function berthScaleOut(env: DockerEnv, n: number, round: number): Promise<number> {
  const name = `scale-${env.tag}-${round}`;
  await env.api.call("CreateService", { cluster: env.cluster, serviceName: name, taskDefinition: "sleeper", desiredCount: 0 });
  const before = new Set(env.watch.started.keys());
  const t0 = performance.now();
  await env.api.call("UpdateService", { cluster: env.cluster, service: name, desiredCount: n });
  await env.watch.until(() => env.watch.started.size - before.size >= n, 300_000, `${n} tasks of ${name} RUNNING`);
  const seconds = since(t0) / 1000;
  const mine = [...env.watch.started.keys()].filter((id) => !before.has(id));
  await env.api.call("DeleteService", { cluster: env.cluster, service: name, force: true });
  await env.watch.until(() => mine.every((id) => env.watch.stopped.has(id)), 300_000, `${name} tasks STOPPED`);
  return seconds;
}

/** `n` `docker run -d` at once (the agent starts a service's tasks concurrently too). */
export async function rawScaleOut(env: DockerEnv, n: number, round: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => dockerRun(env.tag, `${env.tag}-scale-${round}-${i}`)));
  const seconds = since(t0) / 1000;
  await removeLabelled(env.docker, LABEL, env.tag);
  return seconds;
}

export async function swarmScaleOut(env: DockerEnv, n: number, round: number): Promise<number> {
  const name = `scale-${env.tag}-${round}`;
  await swarmService(env.tag, name, 0);
  try {
    const t0 = performance.now();
    await run("docker", ["service", "scale", "--detach", `${name}=${n}`]);
    await swarmRunning(env.docker, name, n, 300_000);
    return since(t0) / 1000;
  } finally {
    await run("docker", ["service", "rm", name]).catch(() => {});
    await removeLabelled(env.docker, LABEL, env.tag);
  }
}
