import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RegisterTaskDefinitionCommand, RunTaskCommand, type Task } from "@aws-sdk/client-ecs";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { dockerClient, TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/ports.ts";
import { BERTH_BIN, type ManagedProcess, REPO_ROOT, spawnProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Private registries through the whole of Berth: Debian's docker-registry on loopback, first open,
 * then behind htpasswd basic auth; credentials from the agent's --registry-auth file and from a
 * task definition's repositoryCredentials (a secret in Berth's store); the outcome as ECS shows it
 * in DescribeTasks. Docker treats 127.0.0.0/8 registries (127.0.0.1 and localhost) as plain HTTP.
 *
 * The agent's file has credentials for `127.0.0.1:<port>` only, so the same registry named
 * `localhost:<port>` is one the agent has none for. Every case pulls its own repository, so no
 * case runs from an image an earlier one pulled.
 */

const run = promisify(execFile);
const docker = dockerClient();
const USER = "berth";
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;

let b: BerthFixture;
let registry: ManagedProcess | undefined;
let dir: string;
let port: number;
const pushed: string[] = [];
let repo: (host: "127.0.0.1" | "localhost", name: string) => string;

function registryConfig(file: string, auth: boolean): void {
  writeFileSync(
    file,
    [
      "version: 0.1",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      ...(auth ? ["auth:", "  htpasswd:", "    realm: berth-test", `    path: ${join(dir, "htpasswd")}`] : []),
    ].join("\n"),
  );
}

async function startRegistry(auth: boolean): Promise<void> {
  const config = join(dir, auth ? "auth.yml" : "open.yml");
  registryConfig(config, auth);
  registry = spawnProcess("docker-registry", ["serve", config], { name: `${b?.cluster ?? "registry"}-registry` });
  // Up means answering /v2/: 200 when open, 401 behind auth.
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).status === (auth ? 401 : 200), {
    timeoutMs: 15_000,
    what: `the registry (${auth ? "with" : "without"} auth)`,
  });
}

/** `berth <args>` against the fixture's endpoint; `input` is its standard input. */
function berth(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BERTH_BIN, ...args, "--endpoint", b.endpoint], { cwd: REPO_ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function runImage(image: string, credentialsParameter?: string, executionRoleArn?: string): Promise<Task> {
  const family = `${b.cluster}-${randomBytes(3).toString("hex")}`;
  await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      ...(executionRoleArn ? { executionRoleArn } : {}),
      containerDefinitions: [
        {
          name: "app",
          image,
          memory: 64,
          command: ["sh", "-c", "exit 0"],
          ...(credentialsParameter ? { repositoryCredentials: { credentialsParameter } } : {}),
        },
      ],
    }),
  );
  const out = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family }));
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(out.failures)}`);
  return b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED", 90_000);
}

beforeAll(async () => {
  process.env.BERTH_SECRETS_KEY ??= randomBytes(32).toString("base64");
  dir = mkdtempSync(join(tmpdir(), "berth-registry-auth-"));
  port = await freePort();
  const prefix = `t-reg-${randomBytes(3).toString("hex")}`;
  repo = (host, name) => `${host}:${port}/${prefix}/${name}:v1`;
  await startRegistry(false);
  // Pushed while the registry is open (no `docker login` on this machine), then untagged here so
  // that running a task has to pull it.
  for (const image of [repo("localhost", "open"), repo("127.0.0.1", "agent"), repo("localhost", "task"), repo("127.0.0.1", "wrong"), repo("localhost", "anon")]) {
    await run("docker", ["tag", TEST_IMAGE, image]);
    await run("docker", ["push", image]);
    pushed.push(image);
    await run("docker", ["rmi", image]);
  }
  const authFile = join(dir, "registry-auth.json");
  writeFileSync(authFile, JSON.stringify({ [`127.0.0.1:${port}`]: { username: USER, password: PASSWORD } }), { mode: 0o600 });
  b = await startBerth("t-registry", ["--registry-auth", authFile]);
}, 180_000);

afterAll(async () => {
  await b?.close();
  await registry?.stop();
  for (const image of pushed)
    await docker
      .getImage(image)
      .remove()
      .catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a registry without authentication", () => {
  it("pulls and runs without credentials", async () => {
    const t = await runImage(repo("localhost", "open"));
    expect(t.stoppedReason).toBe("Essential container in task exited");
    expect(t.containers?.[0]).toMatchObject({ exitCode: 0, lastStatus: "STOPPED" });
  });
});

describe("a registry behind htpasswd basic auth", () => {
  beforeAll(async () => {
    await registry?.stop();
    writeFileSync(join(dir, "htpasswd"), `${USER}:${bcrypt.hashSync(PASSWORD, 10)}\n`);
    await startRegistry(true);
  });

  it("pulls with the agent's credentials (--registry-auth)", async () => {
    const t = await runImage(repo("127.0.0.1", "agent"));
    expect(t.containers?.[0]).toMatchObject({ exitCode: 0, lastStatus: "STOPPED" });
    expect(t.stopCode).toBe("EssentialContainerExited");
  });

  it("pulls with the task definition's repositoryCredentials, read from Berth's secret store", async () => {
    const put = await berth(["secret", "put", "registry-ok"], JSON.stringify({ username: USER, password: PASSWORD }));
    expect(put).toMatchObject({ code: 0 });
    const t = await runImage(repo("localhost", "task"), "arn:aws:secretsmanager:us-east-1:000000000000:secret:registry-ok");
    expect(t.containers?.[0]).toMatchObject({ exitCode: 0, lastStatus: "STOPPED" });
  });

  it("wrong credentials (the task's win over the agent's): CannotPullContainerError", async () => {
    const put = await berth(["secret", "put", "registry-wrong"], JSON.stringify({ username: USER, password: "not-the-password" }));
    expect(put).toMatchObject({ code: 0 });
    const t = await runImage(repo("127.0.0.1", "wrong"), "registry-wrong");
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toMatch(/^CannotPullContainerError: /);
    expect(t.containers?.[0]?.reason).toBe(t.stoppedReason);
    expect(t.containers?.[0]?.exitCode).toBeUndefined();
    expect(JSON.stringify(t)).not.toContain(PASSWORD);
  });

  it("no credentials for that registry: CannotPullContainerError", async () => {
    const t = await runImage(repo("localhost", "anon"));
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toMatch(/^CannotPullContainerError: .*(unauthorized|no basic auth credentials)/);
  });

  it("a repositoryCredentials secret that is missing: ResourceInitializationError", async () => {
    const t = await runImage(repo("localhost", "task"), "no-such-registry-secret");
    expect(t.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: .*no-such-registry-secret/);
  });

  it("an ECR image is placed (the agent advertises ECR pulls) and pulled from its registry: without credentials for it, CannotPullContainerError", async () => {
    // No ECR is reachable from a test: the pull fails, by name lookup here or ECR's 401 elsewhere.
    const image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/berth-test/app:v1";
    const t = await runImage(image, undefined, "arn:aws:iam::123456789012:role/ecsTaskExecutionRole");
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toMatch(/^CannotPullContainerError: .*123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/);
  });

  it("no credential appears in the server's or the agent's log", () => {
    for (const p of [b.server, b.agent]) expect(p.readLog()).not.toContain(PASSWORD);
  });
});
