import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { natsServerBinary } from "../cli/nats-embed.ts";

/** The processes a benchmark starts: nats-server, `berth server`, `berth agent`, `berth sim`. */

/** The `berth` command as users start it: Node with Berth's flags, on jemalloc when installed. */
const BERTH_COMMAND = fileURLToPath(new URL("../../bin/berth", import.meta.url));
const STOP_TIMEOUT_MS = 15_000;

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  /** Resident set size now, bytes (from /proc; 0 once the process is gone). */
  rss(): number;
  /** CPU time used so far (user + system), seconds. */
  cpuSeconds(): number;
  /** Waits for a line of output matching `re`; fails when the process exits first or on the deadline. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<string>;
  /** SIGINT, then SIGKILL after a bound. */
  stop(): Promise<void>;
}

/** Every child still running is killed if the benchmark process exits first. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export function spawnLogged(command: string, args: string[], o: { name: string; dir: string; env?: Record<string, string> }): Proc {
  mkdirSync(o.dir, { recursive: true });
  const logFile = join(o.dir, `${o.name}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { stdio: ["ignore", fd, fd], env: { ...process.env, ...o.env } });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const read = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  return {
    name: o.name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    rss: () => rssOf(child.pid ?? -1),
    cpuSeconds: () => cpuSecondsOf(child.pid ?? -1),
    async waitForOutput(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = read().split("\n").find((l) => re.test(l));
        if (line !== undefined) return line;
        if (gone) throw new Error(`${o.name} exited before printing ${re}; log: ${logFile}\n${tail(read())}`);
        if (Date.now() > deadline) throw new Error(`${o.name} did not print ${re} within ${timeoutMs} ms; log: ${logFile}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (gone) return;
      child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * `bin/berth <args>` run by this process's Node; `nodeArgs` go to Node itself (e.g. --cpu-prof),
 * through BERTH_NODE_ARGS, so they must not hold spaces.
 */
export function spawnBerth(args: string[], o: { name: string; dir: string; env?: Record<string, string>; nodeArgs?: string[] }): Proc {
  return spawnLogged(BERTH_COMMAND, args, {
    name: o.name,
    dir: o.dir,
    env: {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      BERTH_LOG_FORMAT: "json",
      BERTH_LOG_LEVEL: "warn",
      ...(o.nodeArgs?.length ? { BERTH_NODE_ARGS: o.nodeArgs.join(" ") } : {}),
      ...o.env,
    },
  });
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Nats {
  url: string;
  proc: Proc;
  stop(): Promise<void>;
}

/** A nats-server with JetStream on a fresh store under `dir`, on a free loopback port. */
export async function startNats(dir: string, name = "nats-server"): Promise<Nats> {
  const bin = natsServerBinary();
  if (!bin) throw new Error("nats-server not found (apt-get install nats-server)");
  const port = await freePort();
  const store = join(dir, `${name}-store`);
  const proc = spawnLogged(bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store], { name, dir });
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, timeout: 500, reconnect: false });
      await (await jetstreamManager(nc)).getAccountInfo();
      await nc.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nats-server did not start on ${url}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, proc, stop: () => proc.stop() };
}

export function natsVersion(): string {
  const bin = natsServerBinary();
  if (!bin) return "not installed";
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim().replace(/^nats-server:\s*/, "");
  } catch {
    return "unknown";
  }
}

const tail = (text: string, lines = 20) => text.trimEnd().split("\n").slice(-lines).join("\n");
