import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

export interface NatsServerOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Store directory; kept on stop. Without it a temporary one is made and removed on stop. */
  storeDir?: string;
  /** A fixed port; by default a free loopback port is picked. */
  port?: number;
  /** Extra nats-server arguments. */
  args?: string[];
  /** Deadline for the server to accept connections (default 15 s). */
  readyTimeoutMs?: number;
  /** The user the readiness probe logs in as, for a server configured with users. */
  probeUser?: { user: string; pass: string; inboxPrefix?: string };
}

export interface NatsServerHandle {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** pid of the current process (changes on restart). */
  readonly pid: number;
  /** The server's log (stdout and stderr), appended across restarts. */
  readonly logFile: string;
  /** SIGTERM, wait for exit (SIGKILL after a bound); removes a temporary store. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; the store stays for `restart()`. */
  kill9(): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port with the same store. */
  restart(): Promise<void>;
}

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const STOP_TIMEOUT_MS = 10_000;
// Port races (freePort → bind) are rare; three attempts make them invisible.
const START_ATTEMPTS = 3;

/** Every server still running, killed if the test process exits without stopping it. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export function natsServerBinary(): string {
  return existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
}

function exited(child: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed and there is no process to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await done;
  clearTimeout(timer);
  live.delete(child);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Starts a real nats-server on 127.0.0.1 (JetStream on a temporary store by default) and waits
 * until it accepts connections and, with JetStream, answers JetStream API requests.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const jetstream = opts.jetstream ?? true;
  const ownStore = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), "berth-nats-"));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  mkdirSync(ARTIFACTS, { recursive: true });

  let port = opts.port ?? 0;
  let child: ChildProcess | undefined;
  let logFile = "";
  let stopped = false;

  const launch = async (): Promise<void> => {
    const args = ["-a", "127.0.0.1", "-p", String(port)];
    if (jetstream) args.push("-js", "-sd", storeDir);
    args.push(...(opts.args ?? []));
    const fd = openSync(logFile, "a");
    const proc = spawn(natsServerBinary(), args, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    live.add(proc);
    child = proc;
    // A server that exits (or never starts) will not become ready: end the wait at once.
    const gone = new AbortController();
    proc.once("error", (err) => gone.abort(new Error(`cannot start ${natsServerBinary()}: ${err.message}`)));
    proc.once("exit", (code, signal) => {
      live.delete(proc);
      gone.abort(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${tail(logFile)}`));
    });
    const url = `nats://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          const nc = await connect({ servers: url, reconnect: false, timeout: 1_000, ...opts.probeUser });
          try {
            if (jetstream) await (await jetstreamManager(nc, { timeout: 1_000 })).getAccountInfo();
          } finally {
            await nc.close();
          }
          return true;
        },
        { timeoutMs: readyTimeoutMs, what: `nats-server on ${url} (log: ${logFile})`, signal: gone.signal },
      );
    } catch (err) {
      await terminate(proc, "SIGKILL");
      throw err;
    }
  };

  const fixedPort = opts.port !== undefined;
  for (let attempt = 1; ; attempt++) {
    if (!fixedPort) port = await freePort();
    logFile = join(ARTIFACTS, `nats-server-${port}.log`);
    try {
      await launch();
      break;
    } catch (err) {
      if (fixedPort || attempt >= START_ATTEMPTS || !/address already in use/.test(tail(logFile))) {
        if (ownStore) rmSync(storeDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid ?? -1;
    },
    get logFile() {
      return logFile;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) await terminate(child, "SIGTERM");
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    },
    async kill9() {
      if (child) await terminate(child, "SIGKILL");
    },
    async restart() {
      if (stopped) throw new Error("restart() after stop()");
      if (child) await terminate(child, "SIGTERM");
      await launch();
    },
  };
  return handle;
}
