import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_FLAGS } from "../../services/cli/node-flags.ts";
import { waitFor } from "./wait.ts";

/** The repository root, resolved from this file (test/support/ → ../..). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ARTIFACTS_DIR = join(REPO_ROOT, "test-artifacts");
export const BERTH_BIN = join(REPO_ROOT, "bin", "berth.mjs");

// How long stop() gives a process to shut down after SIGINT before SIGKILL.
const STOP_TIMEOUT_MS = 10_000;

export interface SpawnOptions {
  /** Names the log file: test-artifacts/<name>.log (appended, so restarts share one log). */
  name: string;
  /** Added to (and overriding) the test process's environment. */
  env?: Record<string, string | undefined>;
  /** Working directory (default: the repository root). */
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  /** Whether the process is still running. */
  running(): boolean;
  /** The log so far (stdout and stderr interleaved). */
  readLog(): string;
  /**
   * SIGINT (graceful shutdown), then SIGKILL to the whole process group after a bound; once the
   * process has exited, anything left in its group is killed too.
   */
  stop(timeoutMs?: number): Promise<ExitInfo>;
  /**
   * SIGKILL, as in a crash. By default the whole process group dies (a `berth up` takes its
   * embedded nats-server with it, like a machine losing power); `{ tree: false }` kills only
   * this process and leaves its children running.
   */
  kill9(opts?: { tree?: boolean }): Promise<ExitInfo>;
  /** Waits until `url` answers HTTP; fails at once if this process exits first. */
  waitForHttp(url: string, timeoutMs: number): Promise<void>;
}

/** Processes still running, killed (with their groups) if the test process exits first. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) signalGroup(child, "SIGKILL");
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the process group this child leads (it was spawned detached).
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Spawns `command args` as a child process in its own process group, with stdout and stderr
 * appended to test-artifacts/<name>.log (written by the child directly, so the log survives a
 * crash of either side).
 */
export function spawnProcess(command: string, args: string[], opts: SpawnOptions): ManagedProcess {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const logFile = join(ARTIFACTS_DIR, `${opts.name}.log`);
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  let spawnError: string | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once("error", (err) => {
      // Only a failed spawn ends here without an "exit"; errors of a live process are ignored.
      if (child.pid !== undefined) return;
      spawnError = `spawn failed: ${err.message}`;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const readLog = () => {
    let text = "";
    try {
      text = readFileSync(logFile, "utf8");
    } catch {
      // not written yet
    }
    return spawnError === undefined ? text : `${text}\n${spawnError}`;
  };

  const proc: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    logFile,
    child,
    exited,
    running,
    readLog,
    async stop(timeoutMs = STOP_TIMEOUT_MS) {
      if (!running()) return exited;
      child.kill("SIGINT");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), timeoutMs);
      const info = await exited;
      clearTimeout(timer);
      // Whatever the process left behind in its group (a child it failed to stop) goes too.
      signalGroup(child, "SIGKILL");
      return info;
    },
    async kill9(killOpts = {}) {
      if (killOpts.tree ?? true) signalGroup(child, "SIGKILL");
      else child.kill("SIGKILL");
      return exited;
    },
    waitForHttp(url, timeoutMs) {
      return waitForHttp(url, timeoutMs, proc);
    },
  };
  return proc;
}

/** Spawns `node bin/berth.mjs <args>` from the repository root. */
export function spawnBerth(args: string[], opts: SpawnOptions): ManagedProcess {
  return spawnProcess(process.execPath, [...NODE_FLAGS, BERTH_BIN, ...args], opts);
}

/**
 * Waits until an HTTP server answers at `url` (any status counts: the server is up). With
 * `proc`, fails as soon as that process exits, quoting the end of its log.
 */
export async function waitForHttp(url: string, timeoutMs: number, proc?: ManagedProcess): Promise<void> {
  const gone = new AbortController();
  void proc?.exited.then((info) => {
    gone.abort(
      new Error(
        `${proc.name} exited (${info.code ?? info.signal}) before ${url} answered; log ${proc.logFile}:\n${tail(proc.readLog())}`,
      ),
    );
  });
  await waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return true;
    },
    { timeoutMs, intervalMs: 100, what: `HTTP at ${url}`, signal: gone.signal },
  );
}
