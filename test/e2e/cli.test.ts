// The `berth` resource commands, run as a person runs them (`node bin/berth.mjs …`) against a
// whole Berth (nats-server, `berth server`, `berth agent`, real Docker): their tables, --json,
// --help and exit codes (0 ok, 1 API failure, 2 usage).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { subjects } from "../../events/names.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/ports.ts";
import { BERTH_BIN, REPO_ROOT, spawnBerth, spawnProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let b: BerthFixture;

/** `berth <args>` with BERTH_ENDPOINT/BERTH_CLUSTER pointing at this file's Berth. */
async function berth(args: string[], env: Record<string, string> = {}): Promise<Result> {
  try {
    const r = await run(process.execPath, [BERTH_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_ENDPOINT: b.endpoint, BERTH_CLUSTER: b.cluster, ...env },
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

/** A printed table as rows of cells (columns are separated by two or more spaces). */
function rows(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
}

function tableOf(text: string, firstHeader: string): string[][] {
  const all = rows(text);
  const start = all.findIndex((r) => r[0] === firstHeader);
  if (start < 0) throw new Error(`no table with ${firstHeader} in:\n${text}`);
  return all.slice(start);
}

const ok = (r: Result) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
};

const TICKER = ["sh", "-c", "echo hello from berth; echo warn line >&2; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"];

let sleeperArn: string;
let instanceId: string;

beforeAll(async () => {
  // The agent keeps a stopped task's containers (and so its output) for an hour, as ECS's keeps them 3.
  b = await startBerth("t-cli", [], { BERTH_TASK_CLEANUP_WAIT: "1h" });
  const r = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${b.cluster}-ticker`,
      containerDefinitions: [{ name: "main", image: TEST_IMAGE, command: TICKER, memory: 16, stopTimeout: 1 }],
    }),
  );
  sleeperArn = r.taskDefinition?.taskDefinitionArn as string;
  await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${b.cluster}-crash`,
      containerDefinitions: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "exit 3"], memory: 16 }],
    }),
  );
});
afterAll(async () => {
  await b?.close();
});

/** Every command the CLI registers, read from its own overview. */
async function registeredCommands(): Promise<string[]> {
  const r = ok(await berth(["--help"]));
  const lines = r.stdout.split("\n");
  const start = lines.indexOf("Commands:");
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^ {2}(\S+)\s{2,}\S/.exec(line);
    if (!m) break;
    names.push(m[1] as string);
  }
  return names;
}

const MINE = ["run", "ps", "tasks", "stop", "logs", "services", "scale", "deploy", "instances", "drain", "wait", "state", "compose"];

describe("help and usage", () => {
  test("--help answers for every registered command: usage, options, and an example for the resource commands", async () => {
    const names = await registeredCommands();
    expect(names).toEqual(expect.arrayContaining(MINE));
    // Three at a time: each is a node process start on a shared 2-core machine.
    for (let i = 0; i < names.length; i += 3) {
      const batch = names.slice(i, i + 3);
      const results = await Promise.all(batch.map((n) => berth([n, "--help"])));
      results.forEach((r, j) => {
        const name = batch[j] as string;
        expect(r.code, `${name} --help: ${r.stderr}`).toBe(0);
        expect(r.stdout).toContain(`Usage: berth ${name}`);
        expect(r.stdout).toContain("Options:");
        expect(r.stdout).toContain("-h, --help");
        if (MINE.includes(name)) expect(r.stdout, name).toMatch(/Examples:\n {2}berth /);
      });
    }
  }, 180_000);

  test.each([
    [["nope"], "unknown command"],
    [["run"], "name the task definition"],
    [["run", "x", "--count", "zero"], "--count takes a whole number"],
    [["ps", "--bogus"], "Unknown option"],
    [["scale", "web"], "desired count"],
    [["deploy", "web"], "--task-definition X, or --force"],
    [["stop"], "exactly one task"],
    [["logs"], "exactly one task"],
    [["logs", "t", "--tail", "-3"], "--tail"],
    [["wait", "forever", "x"], "services-stable, tasks-running, tasks-stopped"],
    [["drain"], "at least one container instance"],
    [["instances", "--status", "SLEEPING"], "--status takes one of"],
    [["state", "--at", "when pigs fly"], "--at takes a sequence number"],
    [["run", "x", "--count", "11"], "--count takes a whole number from 1 to 10"],
    [["run", "x", "--wait", "--timeout", "abc"], "--timeout takes a whole number"],
    [["scale", "web", "-1"], "-1: negative numbers are not valid here"],
    [["events", "--subject", "bad subject"], "--subject takes a NATS subject filter"],
    [["events", "--since", "soon"], "--since takes a sequence number, a time (ISO 8601) or a duration ago"],
    [["compose", "sideways"], "up, down or config"],
    [["server", "--heap-growth", "0"], "--heap-growth must be an integer ≥ 1"],
    [["server", "--count-healthy-after", "1.5"], "--count-healthy-after must be an integer ≥ 0"],
  ])("berth %j is a usage error (exit 2)", async (args, message) => {
    const r = await berth(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    // The error, the usage (two lines at most) and where the options are: the error stays in sight.
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(4);
    expect(r.stdout).toBe("");
  });
});

describe("tasks", () => {
  let taskIds: string[] = [];

  test("instances lists the agent's host with its free capacity", async () => {
    const table = tableOf(ok(await berth(["instances"])).stdout, "INSTANCE");
    expect(table[0]).toEqual(["INSTANCE", "STATUS", "AGENT", "CPU FREE", "MEMORY FREE", "RUNNING", "PENDING"]);
    expect(table).toHaveLength(2);
    const row = table[1] as string[];
    instanceId = row[0] as string;
    expect(instanceId).toMatch(/^[0-9a-f]{32}$/);
    expect(row.slice(1, 3)).toEqual(["ACTIVE", "connected"]);
    expect(row[3]).toMatch(/^\d+\/\d+$/);
    const json = JSON.parse(ok(await berth(["instances", "--json"])).stdout);
    expect(json.containerInstances).toHaveLength(1);
    expect(json.containerInstances[0].containerInstanceArn).toMatch(new RegExp(`/${instanceId}$`));
    expect(json.containerInstances[0].agentConnected).toBe(true);
    expect(json.failures).toEqual([]);
  });

  test("run --wait starts tasks and returns once they are RUNNING", async () => {
    const r = ok(await berth(["run", `${b.cluster}-ticker`, "--count", "2", "--wait"]));
    const table = tableOf(r.stdout, "TASK");
    expect(table[0]).toEqual(["TASK", "DEFINITION", "STATUS", "HEALTH", "STARTED", "INSTANCE"]);
    expect(table.slice(1).map((row) => row.slice(1, 3))).toEqual([
      [`${b.cluster}-ticker:1`, "RUNNING/RUNNING"],
      [`${b.cluster}-ticker:1`, "RUNNING/RUNNING"],
    ]);
    expect(table.slice(1).every((row) => row[5] === instanceId)).toBe(true);
    taskIds = table.slice(1).map((row) => row[0] as string);
    // What run printed is what the API says.
    for (const id of taskIds) expect((await b.task(id)).lastStatus).toBe("RUNNING");
  }, 120_000);

  test("run --json prints RunTask's output", async () => {
    const json = JSON.parse(ok(await berth(["run", sleeperArn, "--json"])).stdout);
    expect(json.tasks).toHaveLength(1);
    expect(json.tasks[0].taskDefinitionArn).toBe(sleeperArn);
    expect(json.failures).toEqual([]);
    expect(json.$metadata).toBeUndefined();
    taskIds.push(json.tasks[0].taskArn.split("/").pop());
    await b.waitTask(json.tasks[0].taskArn, "RUNNING", (t) => t.lastStatus === "RUNNING");
  }, 120_000);

  test("ps and tasks list the running tasks; --json has DescribeTasks' shapes", async () => {
    for (const cmd of ["ps", "tasks"]) {
      const table = tableOf(ok(await berth([cmd])).stdout, "TASK");
      expect(table.slice(1).map((row) => row[0]).sort()).toEqual([...taskIds].sort());
    }
    const json = JSON.parse(ok(await berth(["ps", "--json"])).stdout);
    expect(json.tasks.map((t: { taskArn: string }) => t.taskArn.split("/").pop()).sort()).toEqual([...taskIds].sort());
    expect(typeof json.tasks[0].createdAt).toBe("string");
    expect(Number.isNaN(Date.parse(json.tasks[0].createdAt))).toBe(false);
  });

  test("logs prints the container's stdout and stderr apart; --tail and --json work", async () => {
    const id = taskIds[0] as string;
    const r = ok(await berth(["logs", id]));
    expect(r.stdout.split("\n")[0]).toBe("hello from berth");
    expect(r.stdout).toMatch(/^tick 1$/m);
    expect(r.stderr).toBe("warn line\n");
    const tail = ok(await berth(["logs", id, "--tail", "1", "--container", "main"]));
    expect(tail.stdout.trimEnd().split("\n")).toHaveLength(1);
    const lines = ok(await berth(["logs", id, "--json"])).stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    // Within one stream order is kept; across stdout and stderr Docker does not promise one.
    expect(lines.find((l) => l.stream === "stdout")).toEqual({ stream: "stdout", data: "hello from berth\n" });
    expect(lines).toContainEqual({ stream: "stderr", data: "warn line\n" });
    expect(lines.at(-1)).toEqual({ end: "complete" });
  });

  test("logs of a task that exited print what it wrote: the container stays for the agent's cleanup wait", async () => {
    const family = `${b.cluster}-last-words`;
    await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [{ name: "main", image: TEST_IMAGE, command: ["sh", "-c", "echo last words; exit 3"], memory: 16 }],
      }),
    );
    const run = JSON.parse(ok(await berth(["run", family, "--json"])).stdout);
    const arn = run.tasks[0].taskArn as string;
    await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");
    const r = ok(await berth(["logs", arn.split("/").pop() as string]));
    expect(r.stdout).toBe("last words\n");
  });

  test("logs --follow streams new output as it is written", async () => {
    const id = taskIds[0] as string;
    const before = ok(await berth(["logs", id, "--tail", "1"])).stdout.trim();
    // No tick yet (the task just started): every tick the follow prints is new.
    const last = Number(/tick (\d+)/.exec(before)?.[1] ?? 0);
    // The agent's side of the follow, seen on NATS: it must end once the reader has gone.
    const nc = await connect({ servers: b.nats.url });
    const agentEnds: string[] = [];
    nc.subscribe(subjects.logStreamsOf("us-east-1", instanceId), {
      callback: (_e, m) => {
        const msg = m.json<{ type: string; reason?: string }>();
        if (msg.type === "end") agentEnds.push(msg.reason ?? "");
      },
    });
    const follower = spawnProcess(process.execPath, [BERTH_BIN, "logs", id, "--follow", "--tail", "0"], {
      name: `${b.cluster}-logs-follow`,
      env: { BERTH_ENDPOINT: b.endpoint, BERTH_CLUSTER: b.cluster },
    });
    const gone = new AbortController();
    void follower.exited.then((e) => gone.abort(new Error(`berth logs --follow exited (${e.code}): ${follower.readLog()}`)));
    try {
      // Lines written after the follow began prove it streams: tick numbers past the last one seen.
      await waitFor(
        () => {
          const seen = [...follower.readLog().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
          return seen.filter((n) => n > last).length >= 2;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: "followed ticks", signal: gone.signal },
      );
      expect(follower.running()).toBe(true);
      await follower.stop();
      // Ctrl-C: the control plane cancels the agent's follow rather than leave it to its deadline.
      await waitFor(() => agentEnds.includes("cancelled"), { timeoutMs: 15_000, intervalMs: 100, what: "the agent's follow cancelled" });
    } finally {
      await follower.stop();
      await nc.close();
    }
  }, 60_000);

  test("logs through a server that requires signatures: signed with the caller's keys, authorized as DescribeTasks", async () => {
    const dir = mkdtempSync(join(tmpdir(), `${b.cluster}-creds-`));
    const file = join(dir, "credentials.yaml");
    writeFileSync(
      file,
      [
        "accessKeys:",
        "  AKIACLILOGSALLOWED01:",
        "    secretAccessKey: allowed-secret",
        "    policies:",
        '      - { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "ecs:*", Resource: "*" }] }',
        "  AKIACLILOGSLISTONLY1:",
        "    secretAccessKey: list-only-secret",
        "    policies:",
        '      - { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "ecs:List*", Resource: "*" }] }',
        "",
      ].join("\n"),
    );
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    // A second control plane on the same log, one that refuses unsigned requests.
    const server = spawnBerth(["server", "--nats", b.nats.url, "--port", String(port), "--credentials", file], { name: `${b.cluster}-signed-server` });
    try {
      await server.waitForHttp(`${endpoint}/health`, 60_000);
      const id = taskIds[0] as string;
      const as = (key: string, secret: string) => ({ BERTH_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: secret });
      // The second server's read model may still be catching up with the log: the task appears in it.
      const signed = await waitFor(
        async () => {
          const r = await berth(["logs", id, "--tail", "1"], as("AKIACLILOGSALLOWED01", "allowed-secret"));
          return r.code === 0 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: "signed logs through the second server" },
      );
      expect(signed.stdout).toMatch(/^tick \d+\n$/);
      const denied = await berth(["logs", id], as("AKIACLILOGSLISTONLY1", "list-only-secret"));
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain("berth logs: AccessDeniedException: User: arn:aws:iam::000000000000:user/AKIACLILOGSLISTONLY1 is not authorized to perform: ecs:DescribeTasks");
      const unsigned = await fetch(`${endpoint}/berth/v1/logs?cluster=${b.cluster}&task=${id}`);
      expect(unsigned.status).toBe(400);
      expect(((await unsigned.json()) as { __type: string }).__type).toBe("MissingAuthenticationTokenException");
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test("stop --wait stops a task; ps hides it, ps --all shows it STOPPED", async () => {
    const id = taskIds.pop() as string;
    const table = tableOf(ok(await berth(["stop", id, "--reason", "done by hand", "--wait"])).stdout, "TASK");
    expect(table[1]?.slice(0, 3)).toEqual([id, `${b.cluster}-ticker:1`, "STOPPED/STOPPED"]);
    expect((await b.task(id)).stoppedReason).toBe("done by hand");
    const running = tableOf(ok(await berth(["ps"])).stdout, "TASK").map((row) => row[0]);
    expect(running).not.toContain(id);
    const all = tableOf(ok(await berth(["ps", "--all"])).stdout, "TASK");
    expect(all.find((row) => row[0] === id)?.[2]).toBe("STOPPED/STOPPED");
  }, 120_000);

  test("wait tasks-running / tasks-stopped report progress and exit 0 when done", async () => {
    const r = ok(await berth(["wait", "tasks-running", ...taskIds]));
    expect(r.stdout).toContain(`tasks: ${taskIds.length} RUNNING`);
    expect(r.stdout).toContain("tasks-running: done");
    const json = JSON.parse(ok(await berth(["wait", "tasks-running", taskIds[0] as string, "--json"])).stdout);
    expect(json.tasks[0].lastStatus).toBe("RUNNING");
  });

  test("run --wait exits 1 when a task stops instead of running", async () => {
    const r = await berth(["run", `${b.cluster}-crash`, "--wait"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/berth run: task [0-9a-f]{32} stopped: /);
    // The table shows the task as the wait last saw it, stopped, not as RunTask answered.
    const [row] = tableOf(r.stdout, "TASK").slice(1);
    expect(row?.[2]).toBe("STOPPED/STOPPED");
  }, 120_000);
});

describe("services", () => {
  const service = "cli-web";

  beforeAll(async () => {
    await b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: service, taskDefinition: sleeperArn, desiredCount: 1 }));
  });

  test("services lists counts, deployments and the rollout state", async () => {
    ok(await berth(["wait", "services-stable", service]));
    const table = tableOf(ok(await berth(["services"])).stdout, "SERVICE");
    expect(table[0]).toEqual(["SERVICE", "STATUS", "DESIRED", "RUNNING", "PENDING", "DEPLOYMENTS", "ROLLOUT", "DEFINITION"]);
    expect(table.find((row) => row[0] === service)?.slice(1, 6)).toEqual(["ACTIVE", "1", "1", "0", "1"]);
    const json = JSON.parse(ok(await berth(["services", "--json"])).stdout);
    expect(json.services.map((s: { serviceName: string }) => s.serviceName)).toContain(service);
    // ps takes a service and a family together (ListTasks takes one of them): the service's tasks of that family.
    const family = sleeperArn.split("/").pop()?.split(":")[0] as string;
    expect(tableOf(ok(await berth(["ps", "--service", service, "--family", family])).stdout, "TASK").length).toBe(2);
    expect(ok(await berth(["ps", "--service", service, "--family", "other-family"])).stdout).toContain("No tasks.");
  }, 120_000);

  test("scale --wait sets the desired count and returns once the service is stable", async () => {
    const r = ok(await berth(["scale", service, "2", "--wait"]));
    const table = tableOf(r.stdout, "SERVICE");
    expect(table[1]?.slice(0, 6)).toEqual([service, "ACTIVE", "2", "2", "0", "1"]);
    expect(r.stdout).toMatch(/cli-web: \d\/2 running/);
    const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] }))).services?.[0];
    expect(s?.runningCount).toBe(2);
  }, 120_000);

  test("deploy --force --wait follows the rollout to COMPLETED", async () => {
    const r = ok(await berth(["deploy", service, "--force", "--wait"]));
    const id = /Deploying .* as (ecs-svc\/\d+)/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    // Progress: the deployments with their counts, and the service's events as they happen.
    expect(r.stdout).toMatch(/PRIMARY .*:1 \d\/2 running/);
    expect(r.stdout).toMatch(/\(service cli-web\) has started \d+ tasks/);
    const table = tableOf(r.stdout, "DEPLOYMENT");
    expect(table[1]?.slice(0, 2)).toEqual([id, "PRIMARY"]);
    expect(table[1]?.at(-1)).toBe("COMPLETED");
    expect(r.stdout).toContain(`Deployment ${id} COMPLETED.`);
  }, 150_000);

  /** A service of one sleeper whose circuit breaker trips at the first failed task. */
  const breakerService = (serviceName: string, { rollback }: { rollback: boolean }) =>
    b.ecs.send(
      new CreateServiceCommand({
        cluster: b.cluster,
        serviceName,
        taskDefinition: sleeperArn,
        desiredCount: 1,
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback, thresholdConfiguration: { type: "COUNT", value: 1 } },
        },
      }),
    );

  test("deploy --wait says the circuit breaker failed the rollout when it also rolled it back", async () => {
    const failing = "cli-rollback";
    await breakerService(failing, { rollback: true });
    ok(await berth(["wait", "services-stable", failing]));
    const r = await berth(["deploy", failing, "--task-definition", `${b.cluster}-crash`, "--wait", "--timeout", "120"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^berth deploy: .*circuit breaker/m);
    expect(r.stderr).not.toContain("replaced before it completed");
    await berth(["scale", failing, "0"]);
  }, 180_000);

  test("deploy --wait exits 1 when the circuit breaker fails the rollout", async () => {
    const failing = "cli-breaker";
    await breakerService(failing, { rollback: false });
    ok(await berth(["wait", "service-stable", failing])); // the earlier spelling, still understood
    const r = await berth(["deploy", failing, "--task-definition", `${b.cluster}-crash`, "--wait", "--timeout", "120"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/PRIMARY .*-crash:1 .*FAILED/);
    expect(r.stderr).toMatch(/^berth deploy: .+/m);
    await berth(["scale", failing, "0"]);
  }, 180_000);

  test("wait services-stable exits 1 on a missing service", async () => {
    const r = await berth(["wait", "services-stable", service, "no-such-service"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("berth wait: service no-such-service not found");
  });
});

describe("failures exit 1 with the ECS error code and message", () => {
  test.each([
    [["ps"]],
    [["services"]],
    [["instances"]],
    [["run", "whatever"]],
    [["scale", "web", "1"]],
    [["logs", "0123456789abcdef0123456789abcdef"]],
  ])("berth %j on a missing cluster", async (args) => {
    const r = await berth(args, { BERTH_CLUSTER: `${b.cluster}-missing` });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^berth \w+: ClusterNotFoundException: Cluster not found\.$/m);
  });

  test("stop and logs of a missing task", async () => {
    for (const cmd of ["stop", "logs"]) {
      const r = await berth([cmd, "0123456789abcdef0123456789abcdef"]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`berth ${cmd}: InvalidParameterException: The referenced task was not found.`);
    }
  });

  test("an unreachable endpoint", async () => {
    const r = await berth(["ps"], { BERTH_ENDPOINT: "http://127.0.0.1:9" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("EndpointUnreachable: cannot reach Berth's ECS API at http://127.0.0.1:9");
  }, 60_000);
});

describe("output into a pipe its reader closed", () => {
  test("berth events --follow | head: ends quietly with 0 at its next line", async () => {
    const child = spawn(process.execPath, [BERTH_BIN, "events", "--follow", "--nats", b.nats.url], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      // The reader takes the first line and goes, as `head -n 1` does.
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      child.stdout.destroy();
      // Something new in the log: the next line meets the closed pipe.
      await b.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: `${b.cluster}-pipe`,
          containerDefinitions: [{ name: "main", image: TEST_IMAGE, memory: 16 }],
        }),
      );
      expect(await exited, stderr).toBe(0);
      expect(stderr).toBe("");
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});

describe("drain", () => {
  test("drain of an instance the cluster does not have says so, and exits 1", async () => {
    const r = await berth(["drain", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`berth drain: nope not found (no such container instance in cluster ${b.cluster}`);
  });

  test("drain sets the instance DRAINING and --undo ACTIVE again (or reports the API's error)", async () => {
    const r = await berth(["drain", instanceId]);
    if (r.code === 1) {
      // UpdateContainerInstancesState not served by this build: the CLI passes the API's word on.
      expect(r.stderr).toMatch(/^berth drain: \w+Exception: .+/m);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    expect(tableOf(r.stdout, "INSTANCE")[1]?.slice(0, 2)).toEqual([instanceId, "DRAINING"]);
    const json = JSON.parse(ok(await berth(["instances", "--json", "--status", "DRAINING"])).stdout);
    expect(json.containerInstances.map((i: { status: string }) => i.status)).toEqual(["DRAINING"]);
    const back = ok(await berth(["drain", instanceId, "--undo"]));
    expect(tableOf(back.stdout, "INSTANCE")[1]?.slice(0, 2)).toEqual([instanceId, "ACTIVE"]);
  });
});
