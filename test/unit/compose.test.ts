// docker-compose.yml and the Dockerfile stay valid and say what the docs promise. The compose CLI
// (v2 plugin or Debian's v1 docker-compose, installed by `scripts/setup.sh test`) validates and
// normalises the file; nothing is built or started.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  ports?: unknown[];
  volumes?: unknown[];
}

async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** `docker compose` (v2) when present, else `docker-compose` (v1). */
async function composeCommand(): Promise<{ file: string; args: string[]; v2: boolean }> {
  if (await succeeds("docker", ["compose", "version"])) return { file: "docker", args: ["compose"], v2: true };
  if (await succeeds("docker-compose", ["version"])) return { file: "docker-compose", args: [], v2: false };
  throw new Error("no compose CLI: run `bash scripts/setup.sh test` (installs docker-compose)");
}

/**
 * The Python that runs docker-compose v1 (its shebang), which has PyYAML: Debian's package
 * depends on python3-yaml. Another python3 earlier on PATH may lack it.
 */
async function composeV1Python(): Promise<string> {
  const { stdout } = await run("sh", ["-c", "command -v docker-compose"]);
  const shebang = readFileSync(stdout.trim(), "utf8").split("\n", 1)[0] ?? "";
  const interpreter = shebang.startsWith("#!") ? shebang.slice(2).trim().split(/\s+/) : [];
  return interpreter[0] === "/usr/bin/env" ? (interpreter[1] ?? "python3") : (interpreter[0] ?? "python3");
}

/** The normalised compose model as JSON: v2 prints it; v1 prints YAML, read by its own PyYAML. */
async function composeConfig(): Promise<{ services: Record<string, ComposeService> }> {
  const compose = await composeCommand();
  const args = [...compose.args, "-f", "docker-compose.yml", "config", ...(compose.v2 ? ["--format", "json"] : [])];
  const { stdout } = await run(compose.file, args, { cwd: ROOT, timeout: 30_000 });
  if (compose.v2) return JSON.parse(stdout);
  const toJson = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";
  const python = await composeV1Python();
  return new Promise((resolve, reject) => {
    const child = execFile(python, ["-c", toJson], { timeout: 30_000 }, (err, out) => {
      if (err) reject(err);
      else resolve(JSON.parse(out));
    });
    child.stdin?.end(stdout);
  });
}

const asArgs = (command: ComposeService["command"]) =>
  Array.isArray(command) ? command.map(String) : (command ?? "").split(/\s+/).filter(Boolean);

describe("docker-compose.yml", () => {
  it("is valid and runs nats, server and agent", async () => {
    const config = await composeConfig();
    expect(Object.keys(config.services).sort()).toEqual(["agent", "nats", "server"]);
    const { nats, server, agent } = config.services as Record<"nats" | "server" | "agent", ComposeService>;

    expect(nats.image).toBe("nats:2.10");
    expect(asArgs(nats.command)).toEqual(["-js", "-sd", "/data"]);
    expect(JSON.stringify(nats.volumes)).toContain("/data");

    expect(server.build).toBeDefined();
    expect(asArgs(server.command)).toEqual([
      "server",
      "--nats",
      "nats://nats:4222",
      "--port",
      "8417",
      "--host",
      "0.0.0.0",
    ]);
    expect(JSON.stringify(server.ports)).toMatch(/"published":"?8417"?/);
    expect(JSON.stringify(server.ports)).toMatch(/"target":8417/);

    expect(agent.build).toBeDefined();
    expect(asArgs(agent.command)).toEqual([
      "agent",
      "--nats",
      "nats://nats:4222",
      "--cluster",
      "default",
      "--data-dir",
      "/var/lib/berth",
      "--availability-zone",
      "us-east-1a",
    ]);
    const volumes = JSON.stringify(agent.volumes);
    expect(volumes).toContain("/var/run/docker.sock");
    expect(volumes).toContain("/var/lib/berth");
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

  it("builds from node 20 and runs the berth CLI", () => {
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["bin\/berth"\]$/m);
  });

  it("copies only files that exist and are not excluded from the build context", () => {
    const sources = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    expect(sources).toContain("package-lock.json");
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(ignored, `${source} is in the build context`).not.toContain(source);
    }
  });
});
