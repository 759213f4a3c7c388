// Berth on a NATS run by hand, locked down with what `berth nats-auth` writes: nats-server started
// with its authorization file, `berth server` and two `berth agent`s each logging in with the env
// file and data directory written for it, as on separate machines (here all on loopback and the
// local Docker engine), and `berth events` as the reader.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { removeContainersByLabel, TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { BERTH_BIN, type ManagedProcess, REPO_ROOT, spawnBerth } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);

const cluster = uniqueName("t-natsauth");
const names = [`${cluster}-a`, `${cluster}-b`];
const out = mkdtempSync(join(tmpdir(), `${cluster}-`));
const processes: ManagedProcess[] = [];
let nats: NatsServerHandle | undefined;
let endpoint = "";
let guide = "";

interface UsersFile {
  controlPlane: { user: string; password: string };
  reader: { user: string; password: string };
  agents: Record<string, { user: string; password: string; instanceId: string; cluster: string }>;
}
let users: UsersFile;


/** KEY=value lines, as `set -a; . FILE` reads them. */
function envFile(path: string): Record<string, string> {
  const lines = readFileSync(path, "utf8").trim().split("\n");
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

const natsAuth = (...args: string[]) =>
  run(process.execPath, [BERTH_BIN, "nats-auth", "--out", out, ...args], { cwd: REPO_ROOT, timeout: 60_000 });
const readUsers = (): UsersFile => JSON.parse(readFileSync(join(out, "security", "nats-users.json"), "utf8"));

beforeAll(async () => {
  const natsPort = await freePort();
  guide = (await natsAuth("--agents", names.join(","), "--cluster", cluster, "--nats", `nats://127.0.0.1:${natsPort}`)).stdout;
  users = readUsers();
  const cp = users.controlPlane;
  // The server's own configuration includes the file, as the README's servers do.
  writeFileSync(join(out, "server.conf"), "include ./nats-auth.conf\n");
  nats = await startNatsServer({
    port: natsPort,
    args: ["-c", join(out, "server.conf")],
    probeUser: { user: cp.user, pass: cp.password },
  });

  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  const server = spawnBerth(["server", "--port", String(port)], {
    name: `${cluster}-server`,
    env: { ...envFile(join(out, "control-plane.env")), BERTH_LOG_FORMAT: "json" },
  });
  processes.push(server);
  await server.waitForHttp(`${endpoint}/health`, 60_000);
  await ecsClient(endpoint).send(new CreateClusterCommand({ clusterName: cluster }));
  for (const name of names) {
    const dataDir = join(out, "agents", name);
    processes.push(
      // Name, cluster, region and servers from its login's env file alone.
      spawnBerth(["agent", "--data-dir", dataDir], {
        name: `${name}-agent`,
        env: { ...envFile(join(dataDir, "nats.env")), BERTH_LOG_FORMAT: "json", BERTH_CONTAINER_STOP_TIMEOUT: "2" },
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop().catch(() => {})));
  await removeContainersByLabel("berth.cluster", cluster).catch(() => {});
  await nats?.stop();
  rmSync(out, { recursive: true, force: true });
});

test("berth nats-auth writes one login per process, private, and says where each goes", () => {
  expect(Object.keys(users.agents).sort()).toEqual([...names].sort());
  for (const f of ["nats-auth.conf", "control-plane.env", "reader.env", "security/nats-users.json"])
    expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o600);
  for (const name of names) {
    expect(envFile(join(out, "agents", name, "nats.env"))).toEqual({
      BERTH_NATS_URL: nats?.url,
      BERTH_NATS_USER: `berth-agent-${name}`,
      BERTH_NATS_PASSWORD: users.agents[name]?.password,
      BERTH_CLUSTER: cluster,
      BERTH_REGION: "us-east-1",
    });
    expect(guide).toContain(`copy berth-nats/agents/${name}`.replace("berth-nats", relative(REPO_ROOT, out)));
    expect(guide).toContain(`berth agent --data-dir /var/lib/berth   (its name, ${name}, from the user)`);
  }
  // The control planes' file also carries the secrets master key they must share (one NATS
  // server here, so no replica setting).
  const cp = envFile(join(out, "control-plane.env"));
  expect(Buffer.from(cp.BERTH_SECRETS_KEY ?? "", "base64")).toHaveLength(32);
  expect(cp.BERTH_REPLICAS).toBeUndefined();
});

test("the NATS it locks down lets no one in without a user", async () => {
  await expect(connect({ servers: nats?.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
});

test("a refused login, or no NATS at all, is one line saying what to check", async () => {
  const name = names[0] as string;
  const wrong = await run(process.execPath, [BERTH_BIN, "agent", "--data-dir", out], {
    cwd: REPO_ROOT,
    timeout: 60_000,
    env: { ...process.env, ...envFile(join(out, "agents", name, "nats.env")), BERTH_NATS_PASSWORD: "not-the-password" },
  }).catch((e: { code: number; stderr: string }) => e);
  expect("code" in wrong && wrong.code).toBe(1);
  expect(wrong.stderr.trim()).toBe(
    `berth agent: NATS refused the login of berth-agent-${name} (Authorization Violation): check BERTH_NATS_USER and BERTH_NATS_PASSWORD (the agent's env file from berth nats-auth), and that every nats-server was reloaded with the nats-auth.conf that has it`,
  );
  const nowhere = `nats://127.0.0.1:${await freePort()}`;
  const gone = await run(process.execPath, [BERTH_BIN, "events", "--nats", nowhere], { cwd: REPO_ROOT, timeout: 60_000 }).catch(
    (e: { code: number; stderr: string }) => e,
  );
  expect("code" in gone && gone.code).toBe(1);
  expect(gone.stderr).toContain(`berth events: cannot reach NATS at ${nowhere}`);
});

test("each agent registers the instance id its user was minted for, and runs a task", async () => {
  const ecs = ecsClient(endpoint);
  const minted = names.map((n) => users.agents[n]?.instanceId).sort();
  const arns = await waitFor(
    async () => {
      const r = await ecs.send(new ListContainerInstancesCommand({ cluster }));
      return r.containerInstanceArns?.length === 2 ? r.containerInstanceArns : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: "both agents to register" },
  );
  expect(arns.map((a) => a.split("/").pop()).sort()).toEqual(minted);

  const family = `${cluster}-app`;
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 8, stopTimeout: 1 }],
    }),
  );
  const r = await ecs.send(
    new RunTaskCommand({ cluster, taskDefinition: family, count: 2, placementConstraints: [{ type: "distinctInstance" }] }),
  );
  const tasks = (r.tasks ?? []).map((t) => t.taskArn as string);
  expect(tasks, JSON.stringify(r.failures)).toHaveLength(2);
  const running = await waitFor(
    async () => {
      const d = await ecs.send(new DescribeTasksCommand({ cluster, tasks }));
      return d.tasks?.every((t) => t.lastStatus === "RUNNING") ? d.tasks : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: "a task running on each agent" },
  );
  expect(new Set(running.map((t) => t.containerInstanceArn)).size).toBe(2);
  for (const task of tasks) await ecs.send(new StopTaskCommand({ cluster, task }));
}, 120_000);

test("berth events reads the log with reader.env", async () => {
  const r = await run(process.execPath, [BERTH_BIN, "events", "--subject", `berth.evt.*.instance.${cluster}.>`], {
    cwd: REPO_ROOT,
    timeout: 60_000,
    env: { ...process.env, ...envFile(join(out, "reader.env")) },
  });
  expect(r.stdout.match(/InstanceRegistered/g)).toHaveLength(2);
});

test("a host added later: the others keep their logins, and the server takes the new file on a reload", async () => {
  const third = `${cluster}-c`;
  const keyBefore = envFile(join(out, "control-plane.env")).BERTH_SECRETS_KEY;
  expect(keyBefore).toBeDefined();
  // Neither cluster nor servers given again, and a running host named again: it stays as it is.
  await natsAuth("--agents", `${third},${names[0]}`);
  const after = readUsers();
  for (const name of names) expect(after.agents[name]).toEqual(users.agents[name]);
  expect(after.controlPlane).toEqual(users.controlPlane);
  expect(after.agents[third]?.cluster).toBe(cluster);
  // The servers written before stay in every env file, and the control planes keep their key.
  expect(envFile(join(out, "agents", third, "nats.env")).BERTH_NATS_URL).toBe(nats?.url);
  expect(envFile(join(out, "control-plane.env")).BERTH_SECRETS_KEY).toBe(keyBefore);
  const login = { servers: nats?.url, user: `berth-agent-${third}`, pass: after.agents[third]?.password, reconnect: false };
  await expect(connect(login)).rejects.toThrow(/Authorization Violation/);
  process.kill(nats?.pid as number, "SIGHUP");
  const nc = await waitFor(() => connect(login).catch(() => undefined), {
    timeoutMs: 10_000,
    intervalMs: 100,
    what: "the new agent's login accepted after the reload",
  });
  await nc.close();
});

test("for three NATS servers, the control planes' file asks for three-replica streams", async () => {
  const three = mkdtempSync(join(tmpdir(), `${cluster}-three-`));
  try {
    const servers = "nats://n1:4222,nats://n2:4222,nats://n3:4222";
    await run(process.execPath, [BERTH_BIN, "nats-auth", "--out", three, "--agents", "h1", "--nats", servers], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    expect(envFile(join(three, "control-plane.env"))).toMatchObject({ BERTH_NATS_URL: servers, BERTH_REPLICAS: "3" });
  } finally {
    rmSync(three, { recursive: true, force: true });
  }
});
