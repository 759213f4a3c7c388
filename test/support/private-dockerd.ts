import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { dockerClient, TEST_IMAGE } from "./docker.ts";
import { ARTIFACTS_DIR } from "./processes.ts";
import { waitFor } from "./wait.ts";

/**
 * A Docker engine of the test's own: a second `dockerd` with its own data root, exec root (and so
 * its own containerd), socket and pid file, no bridge and no iptables rules — nothing shared with
 * the machine's engine, which other tests are using. It runs in a network namespace of its own
 * (`unshare --net`): a dockerd started with --bridge=none deletes any `docker0` link it can see,
 * and in the host's namespace that would be the shared engine's bridge. A fault test can stop and start it at will:
 * a real engine restart, with the same flags each time, harming no one else's containers.
 *
 * It runs with --live-restore, the setting production hosts use so that an engine restart (an
 * upgrade) does not kill the containers: running ones survive, one that dies meanwhile is found
 * exited when the engine comes back. Containers can use network mode "none" or "host" only.
 */
export interface PrivateDockerd {
  readonly socketPath: string;
  readonly logFile: string;
  readonly docker: Docker;
  /** Starts the engine and waits until it answers (bounded). */
  start(): Promise<void>;
  /** SIGTERM and wait for the engine to exit (SIGKILL after a bound). Containers keep running. */
  stop(): Promise<void>;
  /** Removes every container, stops the engine and deletes its directories. */
  destroy(): Promise<void>;
}

const exec = promisify(execFile);
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export function dockerdBinary(): string | undefined {
  return ["/usr/sbin/dockerd", "/usr/bin/dockerd"].find((p) => existsSync(p));
}

/** Whether this machine can run a private engine: root and a dockerd binary. */
export function canRunPrivateDockerd(): boolean {
  return process.getuid?.() === 0 && dockerdBinary() !== undefined;
}

export async function createPrivateDockerd(name: string): Promise<PrivateDockerd> {
  const bin = dockerdBinary();
  if (!bin) throw new Error("no dockerd binary");
  // Short: the engine's socket paths must stay under the Unix socket length limit.
  const dir = mkdtempSync(join(tmpdir(), "bdk-"));
  const socketPath = join(dir, "docker.sock");
  const configFile = join(dir, "daemon.json");
  // Its own (empty) configuration: never the machine's /etc/docker/daemon.json.
  writeFileSync(configFile, "{}\n");
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const logFile = join(ARTIFACTS_DIR, `${name}-dockerd.log`);
  const args = [
    "--config-file",
    configFile,
    "--data-root",
    join(dir, "data"),
    "--exec-root",
    join(dir, "exec"),
    "--pidfile",
    join(dir, "docker.pid"),
    "--host",
    `unix://${socketPath}`,
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    "--live-restore",
  ];
  const docker = new Docker({ socketPath });
  let child: ChildProcess | undefined;
  const onExit = () => child?.kill("SIGKILL");
  process.once("exit", onExit);

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once("exit", () => r()));

  const h: PrivateDockerd = {
    socketPath,
    logFile,
    docker,
    async start() {
      if (running()) return;
      const fd = openSync(logFile, "a");
      try {
        child = spawn("unshare", ["--net", "--", bin, ...args], { stdio: ["ignore", fd, fd], detached: true });
      } finally {
        closeSync(fd);
      }
      const proc = child;
      const gone = new AbortController();
      proc.once("exit", (code, signal) =>
        gone.abort(new Error(`dockerd exited (${code ?? signal}); log ${logFile}:\n${tail(logFile)}`)),
      );
      await waitFor(async () => (await docker.ping()) !== undefined, {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 250,
        what: `the private dockerd on ${socketPath}`,
        signal: gone.signal,
      });
    },
    async stop() {
      const proc = child;
      if (!proc || !running()) return;
      const done = exited(proc);
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
    },
    async destroy() {
      try {
        if (!running()) await h.start();
        for (const c of await docker.listContainers({ all: true }))
          await docker.getContainer(c.Id).remove({ force: true, v: true });
      } finally {
        await h.stop();
        process.removeListener("exit", onExit);
        // dockerd bind-mounts its data root onto itself and leaves it mounted: unmount what is
        // under this directory (deepest first) before removing it.
        const mounts = readFileSync("/proc/mounts", "utf8")
          .split("\n")
          .map((l) => l.split(" ")[1] ?? "")
          .filter((m) => m.startsWith(`${dir}/`))
          .sort((a, b) => b.length - a.length);
        for (const m of mounts) await exec("umount", ["-l", m]).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return h;
}

/** Copies the local test image from the machine's engine into `target` (no registry needed). */
export async function loadTestImage(target: Docker): Promise<void> {
  const image = await dockerClient().getImage(TEST_IMAGE).get();
  const stream = await target.loadImage(image);
  await new Promise<void>((resolve, reject) =>
    target.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
  );
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
