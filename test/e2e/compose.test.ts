// `berth compose up` / `down` with a real compose file: an httpd published on a host port and a
// sleeper with environment, run as one ECS service on a real Docker engine.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/ports.ts";
import { BERTH_BIN, REPO_ROOT } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const run = promisify(execFile);

let b: BerthFixture;
let dir: string;
let hostPort: number;
let project: string;
let file: string;

async function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BERTH_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, BERTH_ENDPOINT: b.endpoint, BERTH_CLUSTER: b.cluster },
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

/** Any HTTP answer from the published port (busybox httpd answers 404 for a missing index). */
async function answers(): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  b = await startBerth("t-compose");
  dir = mkdtempSync(join(tmpdir(), `${b.cluster}-`));
  hostPort = await freePort();
  project = b.cluster.replace(/[^a-z0-9_-]/g, "");
  file = join(dir, "compose.yml");
  writeFileSync(
    file,
    `
services:
  web:
    image: ${TEST_IMAGE}
    command: httpd -f -p 8080
    ports:
      - "${hostPort}:8080"
    depends_on: [sleeper]
    mem_limit: 32m
  sleeper:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo greeting=$$GREETING mode=$$MODE; exec sleep 600"]
    environment:
      GREETING: hello from compose
      MODE: \${BERTH_TEST_MODE:-test}
    stop_grace_period: 1s
    restart: unless-stopped
`,
  );
});
afterAll(async () => {
  await b?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("compose up runs the file as a service: the port answers on the host, the environment arrives", async () => {
  const up = await berth(["compose", "up", "-f", file, "--project", project, "--timeout", "120"]);
  expect(up.code, up.stdout + up.stderr).toBe(0);
  // One clear warning for the unsupported key, naming it.
  expect(up.stderr).toContain("berth compose: warning: services.sleeper.restart is not supported");
  expect(up.stderr.match(/warning:/g)).toHaveLength(1);
  expect(up.stdout).toContain(`Created service ${project} running ${project}:1`);
  expect(up.stdout).toMatch(new RegExp(`^${project}\\s+ACTIVE\\s+1\\s+1\\s+0\\s+1\\s+COMPLETED`, "m"));

  // The task definition is the translation: two containers, the port mapping, environment.
  const td = (await b.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: project }))).taskDefinition;
  const web = td?.containerDefinitions?.find((c) => c.name === "web");
  const sleeper = td?.containerDefinitions?.find((c) => c.name === "sleeper");
  expect(web?.portMappings).toEqual([expect.objectContaining({ containerPort: 8080, hostPort, protocol: "tcp" })]);
  expect(web?.memory).toBe(32);
  expect(web?.dependsOn).toEqual([{ containerName: "sleeper", condition: "START" }]);
  expect(sleeper?.environment).toEqual(
    expect.arrayContaining([
      { name: "GREETING", value: "hello from compose" },
      { name: "MODE", value: "test" },
    ]),
  );
  expect(sleeper?.stopTimeout).toBe(1);

  // The published port answers on the host.
  const status = await waitFor(answers, { timeoutMs: 30_000, intervalMs: 250, what: `httpd on 127.0.0.1:${hostPort}` });
  expect(status).toBeGreaterThanOrEqual(200);

  // The sleeper saw its environment: its output, read back through `berth logs`.
  const ps = await berth(["ps", "--service", project, "--json"]);
  const taskArn = JSON.parse(ps.stdout).tasks[0].taskArn as string;
  const logs = await waitFor(
    async () => {
      const r = await berth(["logs", taskArn, "--container", "sleeper"]);
      return r.stdout.includes("greeting=") ? r : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: "the sleeper's output" },
  );
  expect(logs.stdout).toContain("greeting=hello from compose mode=test");

  // Up again with the file unchanged: nothing is registered or redeployed, the task keeps running.
  const again = await berth(["compose", "up", "-f", file, "--project", project, "--timeout", "120"]);
  expect(again.code, again.stdout + again.stderr).toBe(0);
  expect(again.stdout).toContain(`Service ${project} is up to date (${project}:1)`);
  const after = JSON.parse((await berth(["ps", "--service", project, "--json"])).stdout).tasks.map(
    (t: { taskArn: string }) => t.taskArn,
  );
  expect(after).toEqual([taskArn]);
  const families = await b.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: project }));
  expect(families.taskDefinitionArns?.map((a) => a.split("/").pop())).toEqual([`${project}:1`]);
}, 240_000);

test("compose config prints the translation without changing anything", async () => {
  const r = await berth(["compose", "config", "-f", file, "--project", project]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.taskDefinition.family).toBe(project);
  expect(out.service).toEqual({
    serviceName: project,
    desiredCount: 1,
    schedulingStrategy: "REPLICA",
    deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 },
  });
});

test("compose down removes the service and the task definitions; the port closes", async () => {
  const down = await berth(["compose", "down", "-f", file, "--project", project]);
  expect(down.code, down.stdout + down.stderr).toBe(0);
  expect(down.stdout).toContain(`Deleted service ${project}`);
  expect(down.stdout).toContain(`Deregistered ${project}:1`);
  expect(down.stdout).toContain(`Project ${project} is down.`);
  const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [project] }))).services?.[0];
  expect(s?.status).toBe("INACTIVE");
  const active = await b.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: project, status: "ACTIVE" }));
  expect(active.taskDefinitionArns).toEqual([]);
  await waitFor(async () => (await answers()) === undefined, {
    timeoutMs: 30_000,
    intervalMs: 250,
    what: `port ${hostPort} to close`,
  });
  // Down again: nothing left, still exit 0 (as docker compose down).
  const again = await berth(["compose", "down", "--project", project]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`Nothing to remove for project ${project}.`);
}, 180_000);

test("a file that cannot run fails with the key named (exit 1)", async () => {
  const bad = join(dir, "bad.yml");
  writeFileSync(bad, "services:\n  app:\n    build: .\n");
  const r = await berth(["compose", "up", "-f", bad, "--project", `${project}-bad`]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("berth compose: services.app.image is required");

  // Compose accepts it, ECS does not: said by config and up alike, before anything is registered.
  const fast = join(dir, "fast-check.yml");
  writeFileSync(
    fast,
    `services:\n  app:\n    image: ${TEST_IMAGE}\n    healthcheck:\n      test: ["CMD", "true"]\n      interval: 2s\n`,
  );
  for (const sub of ["config", "up"]) {
    const out = await berth(["compose", sub, "-f", fast, "--project", `${project}-fast`]);
    expect(out.code, out.stdout + out.stderr).toBe(1);
    expect(out.stderr).toContain(
      "fast-check.yml makes a task definition ECS refuses: Invalid 'healthCheck.interval' setting for container 'app'",
    );
    expect(out.stdout).toBe("");
  }
  const families = await b.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: `${project}-fast` }));
  expect(families.taskDefinitionArns).toEqual([]);
});
