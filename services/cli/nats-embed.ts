import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "pino";

export interface EmbeddedNats {
  url: string;
  stop(): Promise<void>;
}

const CANDIDATES = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"];

export function natsServerBinary(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p)) ?? (process.env.PATH ?? "").split(":").map((d) => join(d, "nats-server")).find(existsSync);
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/**
 * One line of nats-server's own log, at its level: errors (a refused publish or subscription, a
 * client without a user) and warnings reach Berth's log at its default level, the rest at debug.
 */
export function logNatsLine(log: Logger, line: string): void {
  const text = line.trim();
  if (!text) return;
  if (/\[(ERR|FTL)\]/.test(text)) log.error({ nats: text }, "nats-server");
  else if (text.includes("[WRN]") && !KNOWN_WARNINGS.test(text)) log.warn({ nats: text }, "nats-server");
  else log.debug({ nats: text }, "nats-server");
}

/**
 * Said at every start and nothing to act on: the passwords are plain in the configuration file
 * because they are plain in nats-users.json beside it (the clients need them), both 0600.
 */
const KNOWN_WARNINGS = /Plaintext passwords detected/;

/** A configuration file for the server (authorization) and the user the start-up probe connects as. */
export interface EmbeddedNatsAuth {
  configFile: string;
  user: string;
  pass: string;
}

/**
 * Runs `nats-server` with JetStream as a child process on loopback, its store under `dataDir`.
 * Stops it when this process stops; the store survives, so the next start resumes the log.
 */
export async function startEmbeddedNats(
  dataDir: string,
  port: number,
  log: Logger,
  auth?: EmbeddedNatsAuth,
): Promise<EmbeddedNats> {
  const bin = natsServerBinary();
  if (!bin) throw new Error("nats-server not found: install it (apt-get install nats-server) or set BERTH_NATS_URL");
  if (!(await portFree(port))) throw new Error(`port ${port} is taken: set BERTH_NATS_PORT or BERTH_NATS_URL`);
  const store = join(dataDir, "nats");
  mkdirSync(store, { recursive: true });
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store, ...(auth ? ["-c", auth.configFile] : [])];
  const child: ChildProcess = spawn(bin, args, {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let exited = false;
  child.once("exit", (code) => {
    exited = true;
    log.info({ code }, "nats-server exited");
  });
  if (child.stderr) createInterface({ input: child.stderr }).on("line", (line) => logNatsLine(log, line));
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error("nats-server exited during start; see its log with BERTH_LOG_LEVEL=debug");
    try {
      const nc = await connect({ servers: url, timeout: 500, ...(auth ? { user: auth.user, pass: auth.pass } : {}) });
      await nc.close();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nats-server did not start on ${url} within 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  log.info({ url, store }, "embedded nats-server running");
  return {
    url,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await done;
      clearTimeout(t);
    },
  };
}
