import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretsReply } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { ephemeralKeys } from "../../services/security/sealed.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { dockerClient } from "../support/docker.ts";
import { readEventLog } from "../support/event-log.ts";
import { ADMIN, READONLY, type SecuredServer, startSecuredServer } from "../support/secured-server.ts";
import { BERTH_BIN, REPO_ROOT } from "../support/processes.ts";

/**
 * Berth's secret store end to end: `berth secret` → the control plane (encrypted in KV under a key
 * file it creates in its data dir) → a task's `secrets` / `secretOptions` → the container.
 * Every value is random per run, so finding one anywhere it must not be is a leak: in the
 * processes' logs, on NATS (a subscriber to `>` sees every publish: the event log, observations,
 * directives, KV writes, request replies), in API output, in Docker labels.
 */

const hex = () => randomBytes(10).toString("hex");
const VALUES = {
  token: `tok-${hex()}`,
  dbPassword: `pw-${hex()}`,
  param: `param-${hex()}`,
  logTag: `tag${hex()}`,
};
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const SECRETS_MANAGER = "arn:aws:secretsmanager:us-east-1:000000000000:secret";

let b: BerthFixture;
let dataDir: string;
let sniffer: NatsConnection;
const traffic: Buffer[] = [];
const cliOutput: string[] = [];

/** `berth <args>` against the fixture's endpoint (or `at`); `input` is its standard input. */
function berth(
  args: string[],
  input = "",
  at?: { endpoint: string; key: { accessKeyId: string; secretAccessKey: string } },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = at ? { ...process.env, AWS_ACCESS_KEY_ID: at.key.accessKeyId, AWS_SECRET_ACCESS_KEY: at.key.secretAccessKey } : process.env;
    const child = spawn(process.execPath, [BERTH_BIN, ...args, "--endpoint", at?.endpoint ?? b.endpoint], { cwd: REPO_ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      cliOutput.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

function expectNoValue(where: string, text: string): void {
  for (const [name, value] of Object.entries(VALUES)) {
    if (text.includes(value)) throw new Error(`secret ${name} leaked into ${where}`);
  }
}

async function run(family: string, containerDefinitions: object[]): Promise<string> {
  await b.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions } as never));
  const out = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: family }));
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(out.failures)}`);
  return arn;
}

beforeAll(async () => {
  // The server is spawned with this environment: no key given, so it makes one in its data dir.
  dataDir = mkdtempSync(join(tmpdir(), "berth-secrets-"));
  process.env.BERTH_DATA_DIR = dataDir;
  delete process.env.BERTH_SECRETS_KEY;
  b = await startBerth("t-secrets");
  sniffer = await connect({ servers: b.nats.url, name: "test-sniffer" });
  sniffer.subscribe(">", {
    callback: (_e, m) => {
      traffic.push(Buffer.from(m.data));
    },
  });
  await sniffer.flush();
}, 120_000);

afterAll(async () => {
  await sniffer?.close();
  await b?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("berth secret", () => {
  it("put (stdin, --from-file, --value), ls shows names only", async () => {
    expect(await berth(["secret", "put", "app-token"], VALUES.token)).toMatchObject({ code: 0 });
    const file = join(dataDir, "db.json");
    writeFileSync(file, JSON.stringify({ username: "app", password: VALUES.dbPassword }));
    expect(await berth(["secret", "put", "db", "--from-file", file])).toMatchObject({ code: 0 });
    rmSync(file);
    expect(await berth(["secret", "put", "/prod/param", "--value", VALUES.param])).toMatchObject({ code: 0 });
    expect(await berth(["secret", "put", "log-tag", "--value", VALUES.logTag])).toMatchObject({ code: 0 });

    const ls = await berth(["secret", "ls", "--json"]);
    expect(ls.code).toBe(0);
    const listed = JSON.parse(ls.stdout) as { secrets: { name: string; createdAt: string }[] };
    expect(listed.secrets.map((s) => s.name)).toEqual(["/prod/param", "app-token", "db", "log-tag"]);
    expect(Date.parse(listed.secrets[0]?.createdAt ?? "")).toBeGreaterThan(0);
  });

  it("the master key is a file the control plane created in its data dir, readable by its owner only", () => {
    const keyFile = join(dataDir, "secrets.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64")).toHaveLength(32);
  });

  it("rm removes; removing again is ResourceNotFoundException", async () => {
    expect(await berth(["secret", "put", "scratch", "--value", "x"])).toMatchObject({ code: 0 });
    expect(await berth(["secret", "rm", "scratch"])).toMatchObject({ code: 0 });
    const again = await berth(["secret", "rm", "scratch"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("ResourceNotFoundException");
    expect((await berth(["secret", "ls"])).stdout).not.toContain("scratch");
  });
});

describe("berth secret against a server that requires SigV4", () => {
  let secured: SecuredServer;
  beforeAll(async () => {
    secured = await startSecuredServer("t-secrets-auth");
  }, 120_000);
  afterAll(async () => secured?.close());

  it("unsigned requests are refused; the route is authorized as ECS actions PutSecret / ListSecrets", async () => {
    const unsigned = await fetch(`${secured.endpoint}/berth/v1/secrets/x`, { method: "PUT", body: JSON.stringify({ value: "v" }) });
    expect(unsigned.status).toBeGreaterThanOrEqual(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toMatch(/MissingAuthenticationToken|UnrecognizedClient/);
    const admin = { endpoint: secured.endpoint, key: ADMIN };
    const reader = { endpoint: secured.endpoint, key: READONLY };
    expect(await berth(["secret", "put", "signed", "--value", "v"], "", admin)).toMatchObject({ code: 0 });
    const denied = await berth(["secret", "put", "signed", "--value", "v2"], "", reader);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("AccessDeniedException");
    expect((await berth(["secret", "ls"], "", reader)).stdout).toContain("signed"); // ecs:List* allows names
  });
});

describe("task secrets", () => {
  let taskArn: string;
  let instanceId: string;

  it("reach the containers as environment variables and log options", async () => {
    const check = [
      `h() { printf %s "$1" | sha256sum | cut -d' ' -f1; }`,
      `[ "$(h "$TOKEN")" = ${sha256(VALUES.token)} ] || exit 11`,
      `[ "$(h "$DB_PASSWORD")" = ${sha256(VALUES.dbPassword)} ] || exit 12`,
      `[ "$(h "$PARAM")" = ${sha256(VALUES.param)} ] || exit 13`,
      `[ "$PLAIN" = visible ] || exit 14`,
    ].join("; ");
    const family = `${b.cluster}-secrets`;
    taskArn = await run(family, [
      {
        name: "checker",
        essential: false,
        image: "berth-test/busybox:latest",
        memory: 32,
        command: ["sh", "-c", check],
        environment: [{ name: "PLAIN", value: "visible" }],
        secrets: [
          { name: "TOKEN", valueFrom: "app-token" },
          { name: "DB_PASSWORD", valueFrom: `${SECRETS_MANAGER}:db:password::` },
          { name: "PARAM", valueFrom: "arn:aws:ssm:us-east-1:000000000000:parameter/prod/param" },
        ],
      },
      {
        name: "holder",
        image: "berth-test/busybox:latest",
        memory: 32,
        command: ["sleep", "300"],
        secrets: [{ name: "TOKEN", valueFrom: `${SECRETS_MANAGER}:app-token` }],
        logConfiguration: { logDriver: "json-file", secretOptions: [{ name: "tag", valueFrom: "log-tag" }] },
      },
    ]);
    const t = await b.waitTask(
      taskArn,
      "RUNNING with the checker done",
      (t) => t.lastStatus === "RUNNING" && (t.containers?.some((c) => c.name === "checker" && c.lastStatus === "STOPPED") ?? false),
    );
    expect(t.containers?.find((c) => c.name === "checker")?.exitCode).toBe(0);
    instanceId = (t.containerInstanceArn ?? "").split("/").pop() ?? "";

    const docker = dockerClient();
    const rows = await docker.listContainers({ all: true, filters: { label: [`berth.task-arn=${taskArn}`] } });
    expect(rows).toHaveLength(2);
    for (const row of rows) expectNoValue("Docker labels", JSON.stringify((await docker.getContainer(row.Id).inspect()).Config.Labels));
    const holder = rows.find((r) => r.Labels["berth.container-name"] === "holder");
    const info = await docker.getContainer(holder?.Id ?? "").inspect();
    expect(info.HostConfig.LogConfig).toEqual({ Type: "json-file", Config: { tag: VALUES.logTag } });
  });

  it("are released only to the agent of the instance the task runs on, and only while it is not STOPPED", async () => {
    const ask = async (instance: string) => {
      const keys = ephemeralKeys();
      const m = await sniffer.request(
        subjects.secrets("us-east-1", instance),
        JSON.stringify({ cluster: b.cluster, taskArn, publicKey: keys.publicKey }),
        { timeout: 10_000 },
      );
      return SecretsReply.parse(m.json());
    };
    expect(await ask("0".repeat(32))).toMatchObject({ ok: false, code: "AccessDeniedException" });
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: taskArn }));
    await b.waitTask(taskArn, "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(await ask(instanceId)).toMatchObject({ ok: false, code: "AccessDeniedException" });
  });

  it("a missing secret stops the task with ECS's ResourceInitializationError", async () => {
    const arn = await run(`${b.cluster}-missing`, [
      {
        name: "app",
        image: "berth-test/busybox:latest",
        memory: 32,
        command: ["true"],
        secrets: [{ name: "X", valueFrom: `${SECRETS_MANAGER}:no-such-secret` }],
      },
    ]);
    const t = await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toMatch(
      /^ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: .*ResourceNotFoundException: .*no-such-secret/,
    );
    expect(t.containers?.[0]?.runtimeId).toBeUndefined();
  });
});

describe("no secret value leaves where it belongs", () => {
  it("not in the logs, the event log, NATS traffic, API output or CLI output", async () => {
    expectNoValue("the server's log", b.server.readLog());
    expectNoValue("the agent's log", b.agent.readLog());

    const log = await readEventLog(b.nats.url);
    const logText = JSON.stringify(log);
    expect(logText).toContain("app-token"); // the references are there; their values are not
    expectNoValue("the event log", logText);
    await sniffer.flush();
    const seen = Buffer.concat(traffic).toString("latin1");
    expect(seen).toContain("app-token"); // the sniffer did see the task's definition go by
    expectNoValue("NATS traffic", seen);
    const key = readFileSync(join(dataDir, "secrets.key"), "utf8").trim();
    expect(seen).not.toContain(key);

    const arns = log.filter((e) => e.envelope.type === "TaskCreated").map((e) => String(e.envelope.data.taskArn));
    const tasks = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }));
    expect(tasks.tasks?.length).toBeGreaterThan(0);
    expectNoValue("DescribeTasks", JSON.stringify(tasks));
    const def = await b.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${b.cluster}-secrets` }));
    expect(def.taskDefinition?.containerDefinitions?.[0]?.secrets?.[0]).toEqual({ name: "TOKEN", valueFrom: "app-token" });
    expectNoValue("DescribeTaskDefinition", JSON.stringify(def));
    const listed = await fetch(`${b.endpoint}/berth/v1/secrets`);
    expectNoValue("the secrets route", await listed.text());
    expectNoValue("berth's output", cliOutput.join("\n"));
  });
});
