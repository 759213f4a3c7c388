import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ContainerInstance,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type DesiredStatus,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { ecsClient } from "../support/ecs.ts";
import { ARTIFACTS_DIR } from "../support/processes.ts";
import { ADMIN, type SecuredServer, startSecuredServer } from "../support/secured-server.ts";

const SHOTS = join(ARTIFACTS_DIR, "console");
/** Long enough for a task to be placed, its image started and the agent's report folded. */
const LIVE_TIMEOUT_MS = 90_000;
/** The agent's ecs.availability-zone attribute, which an instance's page shows. */
const AZ = "us-east-1b";

let b: BerthFixture;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let taskDefinitionArn: string;
/** A task of the service `web` that the first test stops. */
let stoppedServiceTask: string;
/** A task of family console-ports, started by RunTask, that the task page's test stops. */
let stoppedTask: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  b = await startBerth("t-console", ["--availability-zone", AZ]);
  const td = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "console-web",
      containerDefinitions: [
        { name: "web", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 1 },
      ],
    }),
  );
  taskDefinitionArn = td.taskDefinition?.taskDefinitionArn as string;
  mkdirSync(SHOTS, { recursive: true });
  userDataDir = mkdtempSync(join(tmpdir(), "berth-console-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (err) => pageErrors.push(err.message));
  page.on("console", (m) => {
    // Chromium aborts requests in flight when the host's network changes, as it does whenever
    // another test creates or removes a Docker network; the live stream reconnects and the next
    // change renders the page again, which this test checks (it follows live, on the same page).
    // Every other error counts.
    if (m.type() === "error" && !m.text().includes("net::ERR_NETWORK_CHANGED")) pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await b?.close();
});

interface Folded {
  seq: number;
  subject: string;
  type: string;
  time: string;
}

/** A raw Server-Sent Events client of GET /berth/v1/stream, as EventSource would read it. */
async function openStream(lastEventId?: number) {
  const abort = new AbortController();
  const res = await fetch(`${b.endpoint}/berth/v1/stream`, {
    headers: lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) },
    signal: abort.signal,
  });
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const frames = async function* () {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          frame.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
        );
        yield fields as Record<string, string>;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
    }
  };
  const it = frames();
  const read = async () => (await it.next()).value as Record<string, string>;
  let hello = await read();
  while (hello.event !== "hello") hello = await read();
  return {
    hello: JSON.parse(hello.data as string) as { seq: number },
    /** The next event frame that matches; bounded by a deadline. */
    async next(ok: (e: Folded) => boolean): Promise<Folded> {
      const deadline = AbortSignal.timeout(30_000);
      for (;;) {
        const f = await Promise.race([
          read(),
          new Promise<never>((_, reject) =>
            deadline.addEventListener("abort", () => reject(new Error("no matching stream event within 30 s"))),
          ),
        ]);
        if (f.event || !f.data) continue;
        const e = JSON.parse(f.data) as Folded;
        expect(f.id).toBe(String(e.seq));
        if (ok(e)) return e;
      }
    },
    close: () => abort.abort(),
  };
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const runningRows = () => page.locator('[data-testid="task-row"][data-status="RUNNING"]');

describe("the web console in a real browser", () => {
  test("shows the cluster, creates a service, follows it live without a reload, scales it and stops a task", async () => {
    // A browser asking for / is sent to the console.
    await page.goto(`${b.endpoint}/`);
    await page.waitForURL(/\/console\/#\/clusters$/);
    const card = page.locator(`[data-testid="cluster-card"][data-cluster="${b.cluster}"]`);
    await card.waitFor();
    await expect.poll(() => card.locator('[data-stat="instances"] .stat-value').textContent()).toBe("1");
    await page.locator('#live[data-state="live"]').waitFor();
    await shot("clusters");

    // Everything from here on happens in one page load: the marker would vanish with a reload.
    await page.evaluate(() => {
      (globalThis as unknown as { berthTestMarker: string }).berthTestMarker = "same page";
    });

    await card.click();
    await page.waitForURL(new RegExp(`#/services/${b.cluster}$`));
    await page.locator('[data-action="create-service"]').click();
    const dialog = page.locator("dialog[open]");
    await dialog
      .locator(`[data-testid="create-taskdef"] option[value="${taskDefinitionArn}"]`)
      .waitFor({ state: "attached" });
    await dialog.locator('[data-testid="create-taskdef"]').selectOption(taskDefinitionArn);
    await dialog.locator('[data-testid="create-name"]').fill("web");
    await dialog.locator('[data-testid="create-count"]').fill("2");
    await dialog.locator('[data-action="submit"]').click();

    // The service's page follows its tasks to RUNNING as the events arrive.
    await page.waitForURL(new RegExp(`#/services/${b.cluster}/web$`));
    await page.locator('[data-testid="service-page"][data-service="web"]').waitFor();
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(2);
    await page
      .locator('[data-testid="deployment-row"][data-rollout="COMPLETED"]')
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect
      .poll(() => page.locator('[data-testid="service-events"]').textContent())
      .toContain("has reached a steady state");
    await expect(page.locator('[data-stat="running"] .stat-value').textContent()).resolves.toBe("2");
    await shot("service");

    // Scale to 3.
    await page.locator('[data-action="scale"]').click();
    await dialog.locator('[data-testid="scale-count"]').fill("3");
    await dialog.locator('[data-action="submit"]').click();
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(3);
    const described = await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["web"] }));
    expect(described.services?.[0]?.desiredCount).toBe(3);

    // Stop one task: it shows STOPPED with the reason, and the service replaces it.
    const victim = (await runningRows().first().getAttribute("data-task")) as string;
    stoppedServiceTask = victim;
    await page.locator(`[data-testid="task-row"][data-task="${victim}"] [data-action="stop-task"]`).click();
    await dialog.locator('[data-testid="stop-reason"]').fill("stopped by the console test");
    await dialog.locator('[data-action="submit"]').click();
    const victimRow = page.locator(`[data-testid="task-row"][data-task="${victim}"]`);
    await page
      .locator(`[data-testid="task-row"][data-task="${victim}"][data-status="STOPPED"]`)
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect(victimRow.locator('[data-testid="stopped-reason"]').textContent()).resolves.toBe(
      "stopped by the console test",
    );
    await expect(victimRow.locator('[data-testid="exit-code"]').textContent()).resolves.toMatch(/^exit \d+$/);
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(3);
    const stopped = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [victim] }));
    expect(stopped.tasks?.[0]).toMatchObject({
      lastStatus: "STOPPED",
      stopCode: "UserInitiated",
      stoppedReason: "stopped by the console test",
    });

    // Force a new deployment: a second deployment replaces every task, then is the only one left.
    const firstDeployment = (await page
      .locator('[data-testid="deployment-row"]')
      .first()
      .getAttribute("data-deployment")) as string;
    await page.locator('[data-action="force-deployment"]').click();
    await dialog.locator('[data-action="submit"]').click();
    await expect
      .poll(() => page.locator('[data-testid="deployment-row"]').count(), { timeout: LIVE_TIMEOUT_MS })
      .toBe(2);
    await shot("service-deploying");
    const rolledOut = page.locator('[data-testid="deployment-row"][data-rollout="COMPLETED"]');
    const onlyCompleted = async () =>
      (await page.locator('[data-testid="deployment-row"]').count()) === 1 && (await rolledOut.count()) === 1
        ? await rolledOut.getAttribute("data-deployment")
        : undefined;
    await expect
      .poll(onlyCompleted, { timeout: LIVE_TIMEOUT_MS })
      .toSatisfy((id) => typeof id === "string" && id !== firstDeployment);
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(3);
    // The service's history: both service deployments, newest first, SUCCESSFUL.
    const history = page.locator('[data-testid="history-row"]');
    await expect
      .poll(async () => (await history.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")))).join(","), {
        timeout: LIVE_TIMEOUT_MS,
      })
      .toBe("SUCCESSFUL,SUCCESSFUL");
    expect(await history.last().getAttribute("data-deployment")).toBe(firstDeployment.split("/").pop());
    const secondDeployment = (await rolledOut.getAttribute("data-deployment")) as string;
    expect(await history.first().getAttribute("data-deployment")).toBe(secondDeployment.split("/").pop());

    // A deployment that cannot place (no instance has the memory) stays in progress: roll it back.
    const huge = await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "console-huge",
        containerDefinitions: [{ name: "web", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 10_000_000 }],
      }),
    );
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "web", taskDefinition: huge.taskDefinition?.taskDefinitionArn }));
    const stuck = page.locator('[data-testid="history-row"][data-status="IN_PROGRESS"]');
    await stuck.locator('[data-action="rollback"]').click({ timeout: LIVE_TIMEOUT_MS });
    await dialog.locator('[data-action="submit"]').click();
    await page
      .locator('[data-testid="history-row"][data-status="ROLLBACK_SUCCESSFUL"]')
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    await shot("service-rolled-back");
    await page.locator('[data-testid="deployment-row"]').first().waitFor();
    await expect
      .poll(onlyCompleted, { timeout: LIVE_TIMEOUT_MS })
      .toSatisfy((id) => typeof id === "string" && id !== secondDeployment);
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(3);

    // The live feed listed what happened.
    await expect(page.locator('.feed-item[data-type="TaskStopped"]').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('.feed-item[data-type="ServiceCreated"]').count()).resolves.toBe(1);

    // The other pages.
    await page.locator('[data-nav="services"]').click();
    await page.locator('[data-testid="service-row"][data-service="web"]').waitFor();
    await page.locator('[data-testid="service-row"][data-service="web"] [data-counts="3/3"]').waitFor();
    await shot("services");

    // Tasks desired RUNNING, as the ECS console lists them first; the stopped one is under Stopped.
    await page.locator('[data-nav="tasks"]').click();
    await expect.poll(() => runningRows().count()).toBe(3);
    await expect(page.locator(`[data-testid="task-row"][data-task="${victim}"]`).count()).resolves.toBe(0);
    await shot("tasks");

    await page.locator('[data-nav="instances"]').click();
    const instance = page.locator('[data-testid="instance-row"]').first();
    await instance.waitFor();
    const memory = instance.locator('[data-resource="MEMORY"]');
    expect(Number(await memory.getAttribute("data-remaining"))).toBeGreaterThan(0);
    await shot("instances");

    expect(await page.evaluate(() => (globalThis as unknown as { berthTestMarker?: string }).berthTestMarker)).toBe(
      "same page",
    );
    expect(pageErrors).toEqual([]);
  });

  test("on the tasks page a live refresh keeps keyboard focus where it was, each Stop stays in view and names its task; a malformed address shows a page", async () => {
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}`);
    await page.locator('#live[data-state="live"]').waitFor();
    const stop = page.locator('[data-testid="task-row"][data-status="RUNNING"] [data-action="stop-task"]').first();
    await stop.waitFor();
    expect(await page.title()).toBe(`Tasks · ${b.cluster} · Berth console`);
    const task = (await stop.evaluate((el) => el.closest("tr")?.dataset.task)) as string;
    expect(await stop.getAttribute("aria-label")).toBe(`Stop task ${task.slice(0, 12)}`);
    // The row's action is inside the table's box, however wide the table is.
    const box = (await page.locator(".table-wrap").first().boundingBox()) as { x: number; width: number };
    const button = (await stop.boundingBox()) as { x: number; width: number };
    expect(button.x + button.width).toBeLessThanOrEqual(box.x + box.width);

    await stop.focus();
    const rows = await page.locator('[data-testid="task-row"]').count();
    await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: taskDefinitionArn }));
    await expect.poll(() => page.locator('[data-testid="task-row"]').count(), { timeout: LIVE_TIMEOUT_MS }).toBe(rows + 1);
    type Focusable = { dataset: Record<string, string>; closest(sel: string): Focusable | null };
    const focused = await page.evaluate(() => {
      const el = (globalThis as unknown as { document: { activeElement: Focusable | null } }).document.activeElement;
      return { action: el?.dataset.action, task: el?.closest("tr")?.dataset.task };
    });
    expect(focused).toEqual({ action: "stop-task", task });

    expect(pageErrors).toEqual([]);
    // The service it names does not exist: the API's 400s are logged by the browser, nothing else.
    await page.goto(`${b.endpoint}/console/#/services/${b.cluster}/%E0%A4%A`);
    await expect.poll(() => page.locator("#main").textContent()).toMatch(/not found/i);
    expect(pageErrors.filter((e) => !e.includes("status of 400"))).toEqual([]);
    pageErrors.length = 0;
  });

  test("the stream sends each folded event once, in order, and replays what a reconnecting client missed", async () => {
    const first = await openStream();
    expect(first.hello.seq).toBeGreaterThan(0);
    await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "console-stream",
        containerDefinitions: [{ name: "x", image: TEST_IMAGE, memory: 8 }],
      }),
    );
    const event = await first.next(
      (e) => e.type === "TaskDefinitionRegistered" && e.subject.endsWith(".taskdef.console-stream"),
    );
    expect(event.seq).toBeGreaterThan(first.hello.seq);
    expect(event.subject).toBe("berth.evt.us-east-1.taskdef.console-stream");
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    first.close();

    // A client that reconnects with the last id it saw gets what came after it.
    const again = await openStream(event.seq - 1);
    const replayed = await again.next(() => true);
    expect(replayed).toEqual(event);
    again.close();
  });

  test("drains an instance and activates it again (UpdateContainerInstancesState)", async () => {
    await page.goto(`${b.endpoint}/console/#/instances/${b.cluster}`);
    const row = page.locator('[data-testid="instance-row"]').first();
    await row.waitFor();
    await row.locator('[data-action="drain"]').click();
    const dialog = page.locator("dialog[open]");
    await dialog.locator('[data-action="submit"]').click();
    await page.locator('[data-testid="instance-row"][data-status="DRAINING"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    await shot("instances-draining");
    // And back: the instance takes tasks again.
    await page.locator('[data-testid="instance-row"] [data-action="activate"]').click();
    await dialog.locator('[data-action="submit"]').click();
    await page.locator('[data-testid="instance-row"][data-status="ACTIVE"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
  });

  test("a task's page, opened from the tasks list or its service's page, follows its container live: status, network binding, then exit code and why it stopped; an unknown task is not found", async () => {
    const td = await registerPortTask("console-ports");
    const run = await b.ecs.send(
      new RunTaskCommand({ cluster: b.cluster, taskDefinition: td.taskDefinition?.taskDefinitionArn }),
    );
    const arn = run.tasks?.[0]?.taskArn as string;
    const id = arn.split("/").pop() as string;
    stoppedTask = id;

    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}`);
    await page.locator(`[data-testid="task-row"][data-task="${id}"] [data-testid="task-link"]`).click();
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}/${id}$`));
    const taskPage = page.locator(`[data-testid="task-page"][data-task="${id}"]`);
    await page
      .locator(`[data-testid="task-page"][data-task="${id}"][data-status="RUNNING"]`)
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    expect(await page.title()).toBe(`Task ${id.slice(0, 12)} · ${b.cluster} · Berth console`);
    const container = taskPage.locator('[data-testid="container-row"][data-container="app"]');
    await container.and(page.locator('[data-status="RUNNING"]')).waitFor();
    const running = await b.waitTask(arn, "has its network binding", (t) =>
      Boolean(t.containers?.[0]?.networkBindings?.length),
    );
    const app = running.containers?.[0];
    const hostPort = app?.networkBindings?.find((nb) => nb.containerPort === 8080)?.hostPort as number;
    expect(hostPort).toBeGreaterThan(0);
    await expect
      .poll(() => container.locator('[data-testid="network-bindings"]').textContent())
      .toBe(`${hostPort} → 8080/tcp`);
    expect(await container.locator("td").last().locator("code").getAttribute("title")).toBe(app?.runtimeId);
    await expect(container.locator('[data-testid="exit-code"]').textContent()).resolves.toBe("—");
    const field = (name: string) => taskPage.locator(`[data-field="${name}"] dd`);
    await expect(field("group").textContent()).resolves.toBe("family:console-ports");
    await expect(field("launchType").textContent()).resolves.toBe("EC2");
    await expect(field("desiredStatus").textContent()).resolves.toBe("RUNNING");
    await expect(field("memory").textContent()).resolves.toBe(running.memory);
    await expect(field("taskDefinition").locator("a").getAttribute("href")).resolves.toBe("#/taskdefs/console-ports:1");
    await shot("task");

    // Stopped from its page: the page follows it to STOPPED with the container's exit code and the reason.
    await taskPage.locator('[data-action="stop-task"]').click();
    const dialog = page.locator("dialog[open]");
    await dialog.locator('[data-testid="stop-reason"]').fill("stopped from its page");
    await dialog.locator('[data-action="submit"]').click();
    await page
      .locator(`[data-testid="task-page"][data-task="${id}"][data-status="STOPPED"]`)
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect.poll(() => container.locator('[data-testid="exit-code"]').textContent()).toBe("3");
    const stopped = await b.task(arn);
    expect(stopped.containers?.[0]?.exitCode).toBe(3);
    await expect(field("stoppedReason").textContent()).resolves.toBe("stopped from its page");
    await expect(field("stopCode").textContent()).resolves.toBe("UserInitiated");
    const stoppedAt = Date.parse((await field("stoppedAt").locator("time").getAttribute("datetime")) as string);
    expect(Math.abs(stoppedAt - (stopped.stoppedAt as Date).getTime())).toBeLessThan(1000);
    await expect(taskPage.locator('[data-action="stop-task"]').count()).resolves.toBe(0);
    await shot("task-stopped");

    // Its instance's link leads to the instance's page.
    await field("containerInstance").locator("a").click();
    const instanceId = (stopped.containerInstanceArn as string).split("/").pop();
    await page.waitForURL(new RegExp(`#/instances/${b.cluster}/${instanceId}$`));
    await page.locator(`[data-testid="instance-page"][data-instance="${instanceId}"]`).waitFor();

    // From a service's page.
    await page.goto(`${b.endpoint}/console/#/services/${b.cluster}/web`);
    const serviceTask = (await runningRows().first().getAttribute("data-task")) as string;
    await runningRows().first().locator('[data-testid="task-link"]').click();
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}/${serviceTask}$`));
    await expect(
      page.locator(`[data-testid="task-page"][data-task="${serviceTask}"] [data-field="group"] a`).getAttribute("href"),
    ).resolves.toBe(`#/services/${b.cluster}/web`);

    // A task the cluster does not have: a page that says so.
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}/0123456789abcdef0123456789abcdef`);
    const missing = page.locator('[data-testid="task-not-found"]');
    await missing.waitFor();
    await expect(missing.textContent()).resolves.toMatch(/Task not found in cluster .*MISSING/);
    await shot("task-not-found");
    expect(pageErrors).toEqual([]);
  });

  test("a container instance's page, opened from the instances list, shows where it is, what is left of it and its tasks live, drains and activates it; the list's old ?instance= address leads to it; an unknown instance is not found", async () => {
    const arn = await instanceArn();
    const id = arn.split("/").pop() as string;
    await page.goto(`${b.endpoint}/console/#/instances/${b.cluster}`);
    await page.locator(`[data-testid="instance-row"][data-instance="${id}"] [data-testid="instance-link"]`).click();
    await page.waitForURL(new RegExp(`#/instances/${b.cluster}/${id}$`));
    const view = page.locator(`[data-testid="instance-page"][data-instance="${id}"]`);
    await view.waitFor();
    expect(await page.title()).toBe(`Instance ${id.slice(0, 12)} · ${b.cluster} · Berth console`);
    const field = (name: string) => view.locator(`[data-field="${name}"] dd`);
    const described = await describeInstance(arn);
    await expect(field("availabilityZone").textContent()).resolves.toBe(AZ);
    await expect(field("status").textContent()).resolves.toBe("ACTIVE");
    await expect(field("agentConnected").textContent()).resolves.toBe("CONNECTED");
    await expect(field("ec2InstanceId").textContent()).resolves.toBe(described.ec2InstanceId ?? "—");
    await expect(field("agentVersion").textContent()).resolves.toBe(described.versionInfo?.agentVersion);
    expect(described.versionInfo?.dockerVersion).toContain(await field("dockerVersion").textContent());
    const registeredAt = Date.parse((await field("registeredAt").locator("time").getAttribute("datetime")) as string);
    expect(Math.abs(registeredAt - (described.registeredAt as Date).getTime())).toBeLessThan(1000);
    // What the page shows is what DescribeContainerInstances says now (polled: tasks come and go).
    const agrees = async () => {
      const i = await describeInstance(arn);
      const left = (name: string) => i.remainingResources?.find((r) => r.name === name);
      const total = (name: string) => i.registeredResources?.find((r) => r.name === name)?.integerValue;
      const shown = await view.evaluate((el) => {
        const text = (sel: string) => el.querySelector(sel)?.textContent ?? "";
        const bar = (resource: string) =>
          el.querySelector(`[data-resource="${resource}"] .bar`)?.getAttribute("aria-label") ?? "";
        return {
          health: text('[data-field="health"] .badge'),
          running: text('[data-field="runningTasksCount"] dd'),
          cpu: bar("CPU"),
          memory: bar("MEMORY"),
          ports: [...el.querySelectorAll('[data-field="ports"] li')].map((li) => li.textContent),
        };
      });
      return (
        shown.health === i.healthStatus?.overallStatus?.replaceAll("_", " ") &&
        shown.running === String(i.runningTasksCount) &&
        shown.cpu === `${left("CPU")?.integerValue} of ${total("CPU")} CPU units remaining` &&
        shown.memory === `${left("MEMORY")?.integerValue} of ${total("MEMORY")} MiB remaining` &&
        JSON.stringify(shown.ports) === JSON.stringify(left("PORTS")?.stringSetValue?.map(Number).sort((a, b) => a - b).map(String))
      );
    };
    await expect.poll(agrees, { timeout: LIVE_TIMEOUT_MS }).toBe(true);
    await expect(field("health").locator(".badge").textContent()).resolves.toBe("OK");
    await expect(view.locator('[data-attribute="ecs.availability-zone"] td').last().textContent()).resolves.toBe(AZ);
    await shot("instance");

    // Its tasks: ListTasks' for the instance; one started now shows up running without a reload.
    const rows = view.locator('[data-testid="task-row"]');
    const shownIds = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task") as string));
    const run = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: taskDefinitionArn }));
    const started = run.tasks?.[0]?.taskArn as string;
    const startedId = started.split("/").pop() as string;
    await view
      .locator(`[data-testid="task-row"][data-task="${startedId}"][data-status="RUNNING"]`)
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    const onIt = async (desiredStatus: DesiredStatus) =>
      new Set(await listTasks({ containerInstance: arn, desiredStatus }));
    await expect.poll(async () => new Set(await shownIds())).toEqual(await onIt("RUNNING"));
    await expect.poll(agrees, { timeout: LIVE_TIMEOUT_MS }).toBe(true);

    // Its stopped tasks, in the address; the one stopped now joins them.
    await view.locator('[data-testid="status-filter"]').selectOption("STOPPED");
    await page.waitForURL(new RegExp(`#/instances/${b.cluster}/${id}\\?status=STOPPED$`));
    await view.locator(`[data-testid="task-row"][data-task="${stoppedTask}"]`).waitFor();
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: started, reason: "instance page test" }));
    await view.locator(`[data-testid="task-row"][data-task="${startedId}"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect.poll(async () => new Set(await shownIds())).toEqual(await onIt("STOPPED"));
    await shot("instance-stopped-tasks");

    // Drained from its page, then activated again.
    const dialog = page.locator("dialog[open]");
    await view.locator('[data-action="drain"]').click();
    await dialog.locator('[data-action="submit"]').click();
    await page.locator(`[data-testid="instance-page"][data-status="DRAINING"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    expect((await describeInstance(arn)).status).toBe("DRAINING");
    await shot("instance-draining");
    await view.locator('[data-action="activate"]').click();
    await dialog.locator('[data-action="submit"]').click();
    await page.locator(`[data-testid="instance-page"][data-status="ACTIVE"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    expect((await describeInstance(arn)).status).toBe("ACTIVE");

    // The address the list used to mark an instance with opens the instance's page instead.
    await page.goto(`${b.endpoint}/console/#/instances/${b.cluster}?instance=${id}`);
    await page.waitForURL(new RegExp(`#/instances/${b.cluster}/${id}$`));
    await view.waitFor();

    // An instance the cluster does not have: a page that says so.
    await page.goto(`${b.endpoint}/console/#/instances/${b.cluster}/0123456789abcdef0123456789abcdef`);
    const missing = page.locator('[data-testid="instance-not-found"]');
    await missing.waitFor();
    await expect(missing.textContent()).resolves.toMatch(/Container instance not found in cluster .*MISSING/);
    await shot("instance-not-found");
    expect(pageErrors).toEqual([]);
  });

  test("task definitions: the families, a revision's settings with environment names but not values, moving between revisions, its JSON, and live status", async () => {
    await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "console-ports",
        networkMode: "bridge",
        containerDefinitions: [
          { name: "init", image: TEST_IMAGE, essential: false, command: ["true"], memory: 8 },
          {
            name: "app",
            image: TEST_IMAGE,
            cpu: 10,
            memory: 16,
            memoryReservation: 8,
            command: ["sleep", "3600"],
            portMappings: [{ containerPort: 8080, hostPort: 0 }],
            environment: [{ name: "GREETING", value: "not-shown-on-the-page" }],
            healthCheck: { command: ["CMD-SHELL", "true"], interval: 10, retries: 2 },
            dependsOn: [{ containerName: "init", condition: "SUCCESS" }],
          },
        ],
      }),
    );
    await page.goto(`${b.endpoint}/console/#/clusters`);
    await page.locator('[data-nav="taskdefs"]').click();
    await page.waitForURL(/#\/taskdefs$/);
    const family = page.locator('[data-testid="family-row"][data-family="console-ports"]');
    await expect.poll(() => family.locator("td").nth(1).textContent()).toBe("console-ports:2");
    await expect(family.locator("td").nth(2).textContent()).resolves.toBe("2");
    expect(await page.title()).toBe("Task definitions · Berth console");
    await shot("taskdefs");

    await family.locator("a").first().click();
    await page.waitForURL(/#\/taskdefs\/console-ports:2$/);
    const view = page.locator('[data-testid="taskdef-page"][data-taskdef="console-ports:2"]');
    await view.waitFor();
    const app = view.locator('[data-testid="container-def"][data-container="app"]');
    const appField = (name: string) => app.locator(`[data-field="${name}"] dd`);
    await expect(appField("environment").textContent()).resolves.toBe("GREETING");
    await expect(view.locator(".container-defs").textContent()).resolves.not.toContain("not-shown-on-the-page");
    await expect(appField("healthCheck").textContent()).resolves.toContain('["CMD-SHELL","true"]');
    await expect(appField("healthCheck").textContent()).resolves.toContain("every 10 s, timeout 5 s, 2 retries");
    await expect(appField("dependsOn").textContent()).resolves.toBe("init SUCCESS");
    await expect(appField("ports").textContent()).resolves.toBe("dynamic → 8080/tcp");
    await expect(appField("memory").textContent()).resolves.toBe("16 hard · 8 soft");
    await expect(appField("command").textContent()).resolves.toBe('["sleep","3600"]');
    await expect(
      view.locator('[data-testid="container-def"][data-container="init"] [data-field="essential"] dd').textContent(),
    ).resolves.toBe("No");
    await expect(view.locator('[data-field="networkMode"] dd').textContent()).resolves.toBe("bridge");
    const revisions = view.locator('nav[aria-label="Revisions of console-ports"] a');
    expect(await revisions.allTextContents()).toEqual(["console-ports:2", "console-ports:1"]);
    await expect(revisions.first().getAttribute("aria-current")).resolves.toBe("page");
    await shot("taskdef");

    // The older revision, from the family's revision list.
    await revisions.last().click();
    await page.waitForURL(/#\/taskdefs\/console-ports:1$/);
    const older = page.locator('[data-testid="taskdef-page"][data-taskdef="console-ports:1"]');
    await older.waitFor();
    await expect(older.locator('[data-testid="container-def"]').count()).resolves.toBe(1);
    await expect(
      older.locator('[data-container="app"] [data-field="command"] dd').textContent(),
    ).resolves.toContain("trap 'exit 3' TERM");
    expect(await page.title()).toBe("console-ports:1 · Berth console");
    // Its JSON is DescribeTaskDefinition's answer; it stays open across a live refresh.
    await older.locator('[data-action="toggle-json"]').click();
    const json = JSON.parse((await older.locator('[data-testid="taskdef-json"]').textContent()) as string);
    const described = await b.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "console-ports:1" }));
    expect(json.taskDefinition.taskDefinitionArn).toBe(described.taskDefinition?.taskDefinitionArn);
    expect(json.taskDefinition.containerDefinitions[0].command).toEqual(
      described.taskDefinition?.containerDefinitions?.[0]?.command,
    );
    // Deregistered by another client: the page shows it without a reload.
    await b.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: "console-ports:1" }));
    await page
      .locator('[data-testid="taskdef-page"][data-taskdef="console-ports:1"][data-status="INACTIVE"]')
      .waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect(page.locator('[data-testid="taskdef-json"]').isVisible()).resolves.toBe(true);
    await expect(
      page.locator('nav[aria-label="Revisions of console-ports"] li[data-revision="1"]').getAttribute("data-status"),
    ).resolves.toBe("INACTIVE");
    await shot("taskdef-inactive");
    expect(pageErrors).toEqual([]);

    // A revision that does not exist.
    await page.goto(`${b.endpoint}/console/#/taskdefs/console-ports:99`);
    await page.locator('[data-testid="taskdef-not-found"]').waitFor();
    expect(pageErrors.filter((e) => !e.includes("status of 400"))).toEqual([]);
    pageErrors.length = 0;
  });

  test("the tasks list filters by desired status and by service or family, in the address (reload and Back keep it), and keeps focus on the filter", async () => {
    const rows = page.locator('[data-testid="task-row"]');
    const rowIds = () => rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: Record<string, string> }).dataset.task));
    /** The list shown is for this filter (the address changes before the list is re-read). */
    const shows = (filter: string) => page.locator(`[data-testid="tasks-page"][data-filter="${filter}"]`).waitFor();
    const attrs = (name: string) => rows.evaluateAll((trs, n) => [...new Set(trs.map((tr) => tr.getAttribute(n)))], name);
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}`);
    await runningRows().first().waitFor();
    expect(await attrs("data-desired")).toEqual(["RUNNING"]);
    expect(await rowIds()).not.toContain(stoppedTask);

    // As a keyboard user changes it: focused, then changed.
    await page.locator('[data-testid="status-filter"]').focus();
    await page.locator('[data-testid="status-filter"]').selectOption("STOPPED");
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}\\?status=STOPPED$`));
    await shows("status=STOPPED");
    await page.locator(`[data-testid="task-row"][data-task="${stoppedTask}"][data-status="STOPPED"]`).waitFor();
    expect(await attrs("data-desired")).toEqual(["STOPPED"]);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } } }).document.activeElement.getAttribute("name"))).toBe("status");

    await page.locator('[data-testid="scope-filter"]').selectOption("service:web");
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}\\?status=STOPPED&service=web$`));
    await shows("status=STOPPED&service=web");
    await page.locator(`[data-testid="task-row"][data-task="${stoppedServiceTask}"]`).waitFor();
    expect(await attrs("data-group")).toEqual(["service:web"]);
    expect(await rowIds()).not.toContain(stoppedTask);
    const listed = await listTasks({ serviceName: "web", desiredStatus: "STOPPED" });
    expect(new Set(await rowIds())).toEqual(new Set(listed));
    await shot("tasks-stopped-web");

    // A reload shows the same list; Back undoes one filter at a time.
    await page.reload();
    await shows("status=STOPPED&service=web");
    await page.locator(`[data-testid="task-row"][data-task="${stoppedServiceTask}"]`).waitFor();
    await expect(page.locator('[data-testid="status-filter"]').inputValue()).resolves.toBe("STOPPED");
    await expect(page.locator('[data-testid="scope-filter"]').inputValue()).resolves.toBe("service:web");
    await page.goBack();
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}\\?status=STOPPED$`));
    await shows("status=STOPPED");
    await page.locator(`[data-testid="task-row"][data-task="${stoppedTask}"]`).waitFor();
    await page.goBack();
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}$`));
    await shows("");
    expect(await attrs("data-desired")).toEqual(["RUNNING"]);
    expect(await rowIds()).not.toContain(stoppedTask);

    // By family: its task stopped, so nothing runs; under Stopped, there it is.
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}?family=console-ports`);
    await shows("family=console-ports");
    await expect.poll(() => page.locator("#main .empty-title").textContent()).toBe(
      "No running tasks of family console-ports.",
    );
    await page.locator('[data-testid="status-filter"]').selectOption("STOPPED");
    await page.waitForURL(new RegExp(`#/tasks/${b.cluster}\\?status=STOPPED&family=console-ports$`));
    await shows("status=STOPPED&family=console-ports");
    await page.locator(`[data-testid="task-row"][data-task="${stoppedTask}"]`).waitFor();
    expect(await attrs("data-group")).toEqual(["family:console-ports"]);
    expect(pageErrors).toEqual([]);

    // A service the cluster does not have: ECS's error, on the page, with the way back.
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}?service=no-such-service`);
    await expect.poll(() => page.locator("#main .load-error").textContent()).toContain("ServiceNotFoundException");
    await page.locator('[data-action="clear-filters"]').waitFor();
    expect(pageErrors.filter((e) => !e.includes("status of 400"))).toEqual([]);
    pageErrors.length = 0;
  });

  test("the tasks list pages through more tasks than fit a page (ListTasks nextToken)", async () => {
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}`);
    await runningRows().first().waitFor();
    await page.locator('[data-testid="page-size"]').selectOption("10");
    const run = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: taskDefinitionArn, count: 10 }));
    const started = (run.tasks ?? []).map((t) => t.taskArn as string);
    expect(started).toHaveLength(10);
    const rows = page.locator('[data-testid="task-row"]');
    const more = page.locator('[data-action="load-more"]');
    await expect.poll(() => rows.count(), { timeout: LIVE_TIMEOUT_MS }).toBe(10);
    await more.waitFor();

    await more.click();
    const shownIds = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task") as string));
    // Every task ListTasks has, each once (the service's tasks may still be settling after the drain).
    const allShown = async () => {
      const [ids, listed] = await Promise.all([shownIds(), listTasks({ desiredStatus: "RUNNING" })]);
      return ids.length === listed.length && new Set(ids).size === ids.length && listed.every((id) => ids.includes(id));
    };
    await expect.poll(allShown, { timeout: LIVE_TIMEOUT_MS }).toBe(true);
    const ids = await shownIds();
    const total = ids.length;
    expect(total).toBeGreaterThan(10);
    expect(total).toBeLessThanOrEqual(20);
    await expect(more.count()).resolves.toBe(0);
    // The first row the page added has keyboard focus.
    await expect
      .poll(focusedTask)
      .toBe(ids[10]);
    // A live refresh keeps both pages.
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: started[0], reason: "paging test" }));
    await expect.poll(() => rows.count(), { timeout: LIVE_TIMEOUT_MS }).toBe(total - 1);
    await shot("tasks-paged");

    await Promise.all(started.slice(1).map((task) => b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task }))));
    await page.locator('[data-testid="page-size"]').selectOption("25");
    expect(pageErrors).toEqual([]);
  });

  test("Load more clicked while a live refresh is under way gives the first added row focus once it is shown", async () => {
    await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}`);
    await page.locator('[data-testid="page-size"]').selectOption("10");
    const started: string[] = [];
    for (const count of [10, 1]) {
      const run = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: taskDefinitionArn, count }));
      started.push(...(run.tasks ?? []).map((t) => t.taskArn as string));
    }
    const rows = page.locator('[data-testid="task-row"]');
    const more = page.locator('[data-action="load-more"]');
    await expect.poll(() => rows.count(), { timeout: LIVE_TIMEOUT_MS }).toBe(10);
    await more.waitFor();
    // From here ListTasks calls are held until Load more is clicked, so the refresh a live event
    // starts is still reading one page when Load more asks for two.
    let listing = 0;
    let clicked = () => {};
    const click = new Promise<void>((resolve) => {
      clicked = resolve;
    });
    await page.route(`${b.endpoint}/`, async (route) => {
      if (route.request().headers()["x-amz-target"]?.endsWith(".ListTasks")) {
        listing++;
        await click;
      }
      // Chromium may have dropped the request meanwhile (a Docker network another test makes or
      // removes changes the host's network): then there is nothing to continue, and the page reads again.
      await route.continue().catch(() => {});
    });
    try {
      const extra = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: taskDefinitionArn }));
      started.push(...(extra.tasks ?? []).map((t) => t.taskArn as string));
      await expect.poll(() => listing, { timeout: LIVE_TIMEOUT_MS }).toBeGreaterThan(0);
      // Where keyboard focus first lands on a task row, and that row's place among the rows then.
      await page.evaluate(`(() => {
        window.firstRowFocus = undefined;
        const record = (e) => {
          const row = e.target.closest?.('[data-testid="task-row"]');
          if (!row) return;
          document.removeEventListener("focusin", record);
          const ids = [...document.querySelectorAll('[data-testid="task-row"]')].map((r) => r.dataset.task);
          window.firstRowFocus = { index: ids.indexOf(row.dataset.task), rows: ids.length };
        };
        document.addEventListener("focusin", record);
      })()`);
      await more.click();
      clicked();
      // Two pages shown (the live refresh may come between), focus on the second's first row. Rows
      // are ordered within their page by status, so a task of the added page that starts running
      // after the focus was given moves within it: the focused row is one of the added page's.
      const shown = async () => {
        const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task") as string));
        const focused = await focusedTask();
        return ids.length > 10 && focused !== undefined && focused !== null && ids.indexOf(focused) >= 10;
      };
      await expect.poll(shown, { timeout: 30_000 }).toBe(true);
      // When it was given, the focus was on the added page's first row.
      const first = (await page.evaluate("window.firstRowFocus")) as { index: number; rows: number };
      expect(first.index).toBe(10);
      expect(first.rows).toBeGreaterThan(10);
    } finally {
      clicked();
      await page.unroute(`${b.endpoint}/`);
    }
    await Promise.all(started.map((task) => b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task }))));
    await page.locator('[data-testid="page-size"]').selectOption("25");
    expect(pageErrors).toEqual([]);
  });

  test("a service's page pages through its tasks, running then stopped, when they are more than fit a page (ListTasks nextToken)", async () => {
    await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: "many", taskDefinition: taskDefinitionArn, desiredCount: 12 }),
    );
    await page.goto(`${b.endpoint}/console/#/services/${b.cluster}/many`);
    const view = page.locator('[data-testid="service-page"][data-service="many"]');
    await view.waitFor();
    await page.locator('[data-testid="page-size"]').selectOption("10");
    const rows = view.locator('[data-testid="task-row"]');
    const more = view.locator('[data-action="load-more"]');
    await expect.poll(() => rows.count(), { timeout: LIVE_TIMEOUT_MS }).toBe(10);
    await more.waitFor();
    await expect(view.locator('[data-testid="tasks-shown"]').textContent()).resolves.toBe("10 tasks shown");

    await more.click();
    const shownIds = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task") as string));
    // ListTasks' running tasks of the service, then its stopped ones, each once.
    const listed = async () => [
      ...(await listTasks({ serviceName: "many", desiredStatus: "RUNNING" })),
      ...(await listTasks({ serviceName: "many", desiredStatus: "STOPPED" })),
    ];
    const allShown = async () => {
      const [ids, all] = await Promise.all([shownIds(), listed()]);
      return ids.length === all.length && new Set(ids).size === ids.length && all.every((id) => ids.includes(id));
    };
    await expect.poll(allShown, { timeout: LIVE_TIMEOUT_MS }).toBe(true);
    const ids = await shownIds();
    expect(ids).toHaveLength(12);
    await expect(more.count()).resolves.toBe(0);
    // The first row the page added has keyboard focus.
    await expect
      .poll(focusedTask)
      .toBe(ids[10]);

    // A task stopped: both pages stay; it is listed below the running ones, with its replacement among them.
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: ids[0] as string, reason: "service paging test" }));
    await expect.poll(() => rows.count(), { timeout: LIVE_TIMEOUT_MS }).toBe(13);
    await expect.poll(allShown, { timeout: LIVE_TIMEOUT_MS }).toBe(true);
    await expect
      .poll(() => rows.last().getAttribute("data-task"), { timeout: LIVE_TIMEOUT_MS })
      .toBe(ids[0]);
    await expect(rows.last().getAttribute("data-desired")).resolves.toBe("STOPPED");
    await shot("service-paged");

    await page.locator('[data-testid="page-size"]').selectOption("25");
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "many", desiredCount: 0 }));
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: "many", force: true }));
    expect(pageErrors).toEqual([]);
  });

  test("at 390 px wide (a phone) no page is wider than the screen: the top bar wraps, tables scroll in their own box", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const c = b.cluster;
      const instance = (await instanceArn()).split("/").pop();
      const pages: [string, string, string][] = [
        ["clusters", "#/clusters", '[data-testid="cluster-card"]'],
        ["services", `#/services/${c}`, '[data-testid="service-row"]'],
        ["service", `#/services/${c}/web`, '[data-testid="service-page"] [data-testid="task-row"]'],
        ["tasks", `#/tasks/${c}`, '[data-testid="task-row"]'],
        ["tasks-stopped", `#/tasks/${c}?status=STOPPED`, `[data-testid="task-row"][data-task="${stoppedTask}"]`],
        ["task", `#/tasks/${c}/${stoppedTask}`, '[data-testid="task-page"] [data-testid="container-row"]'],
        ["task-not-found", `#/tasks/${c}/0123456789abcdef0123456789abcdef`, '[data-testid="task-not-found"]'],
        ["taskdefs", "#/taskdefs", '[data-testid="family-row"]'],
        ["taskdef", "#/taskdefs/console-ports:2", '[data-testid="taskdef-page"] [data-testid="container-def"]'],
        ["instances", `#/instances/${c}`, '[data-testid="instance-row"]'],
        ["instance", `#/instances/${c}/${instance}`, '[data-testid="instance-page"] [data-testid="task-row"]'],
        [
          "instance-not-found",
          `#/instances/${c}/0123456789abcdef0123456789abcdef`,
          '[data-testid="instance-not-found"]',
        ],
      ];
      for (const [name, hash, ready] of pages) {
        await page.goto(`${b.endpoint}/console/${hash}`);
        await page.locator(ready).first().waitFor();
        const size = await page.evaluate(() => {
          const g = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
          return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth };
        });
        expect({ page: name, fits: size.scrollWidth <= size.innerWidth, ...size }).toMatchObject({ page: name, fits: true });
        await shot(`phone-${name}`);
      }
      // The tasks table is wider than the screen: it scrolls inside its box.
      await page.goto(`${b.endpoint}/console/#/tasks/${c}`);
      const wrap = page.locator(".table-wrap").first();
      await wrap.locator('[data-testid="task-row"]').first().waitFor();
      // (Polled: a live refresh may swap the table out between finding it and measuring it.)
      await expect.poll(() => wrap.evaluate((el) => el.isConnected && el.scrollWidth > el.clientWidth)).toBe(true);
      // The top bar wrapped onto more than one line rather than widening the page.
      const bar = (await page.locator(".topbar").boundingBox()) as { height: number; width: number };
      expect(bar.width).toBeLessThanOrEqual(390);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
    expect(pageErrors.filter((e) => !e.includes("status of 400"))).toEqual([]);
    pageErrors.length = 0;
  });

  test("at 1440 and 1280 px wide with the live event feed open, and at 1024 without it, the tables of the tasks list, a service's page (deployments, history, tasks) and an instance's page fit their box", async () => {
    // Rows as wide as a task list has: a service's tasks with a network binding, one stopped with
    // its container's exit code and a reason.
    const td = await registerPortTask("console-wide-layout");
    await b.ecs.send(
      new CreateServiceCommand({
        cluster: b.cluster,
        serviceName: "wide-layout",
        taskDefinition: td.taskDefinition?.taskDefinitionArn,
        desiredCount: 2,
      }),
    );
    try {
      const c = b.cluster;
      await expect
        .poll(async () => (await listTasks({ serviceName: "wide-layout", desiredStatus: "RUNNING" })).length, {
          timeout: LIVE_TIMEOUT_MS,
        })
        .toBe(2);
      const [victim] = await listTasks({ serviceName: "wide-layout", desiredStatus: "RUNNING" });
      await b.ecs.send(
        new StopTaskCommand({ cluster: c, task: victim, reason: "stopped by the console's layout test at 1440 px" }),
      );
      await b.waitTask(victim as string, "has stopped", (t) => t.lastStatus === "STOPPED");
      const instance = (await instanceArn()).split("/").pop();
      const pages: [string, string, string][] = [
        ["tasks", `#/tasks/${c}?service=wide-layout`, '[data-testid="task-row"][data-status="RUNNING"]'],
        ["tasks-stopped", `#/tasks/${c}?status=STOPPED&service=wide-layout`, `[data-testid="task-row"][data-task="${victim}"]`],
        ["service", `#/services/${c}/wide-layout`, `[data-testid="service-page"] [data-testid="task-row"][data-task="${victim}"]`],
        ["instance", `#/instances/${c}/${instance}`, '[data-testid="instance-page"] [data-testid="task-row"]'],
        // (The instance's first page of stopped tasks: after the other tests, the one stopped here
        // may be on a later one.)
        [
          "instance-stopped",
          `#/instances/${c}/${instance}?status=STOPPED`,
          '[data-testid="instance-page"] [data-testid="task-row"][data-status="STOPPED"]',
        ],
      ];
      for (const [width, height] of [
        [1440, 900],
        [1280, 800],
        [1024, 768],
      ] as const)
        for (const [name, hash, ready] of pages) {
          await page.setViewportSize({ width, height });
          await page.goto(`${b.endpoint}/console/${hash}`);
          await page.locator(ready).first().waitFor({ timeout: LIVE_TIMEOUT_MS });
          // The feed gives way below 1100 px.
          await expect(page.locator(".feed").isVisible()).resolves.toBe(width > 1100);
          // How far each table of the page, and the page itself, is wider than its box (polled: a
          // live refresh may render the page again while it is measured).
          const overflow = async () => ({
            page: `${name} at ${width} px`,
            tables: await page
              .locator("#main .table-wrap")
              .evaluateAll((wraps) => wraps.map((el) => el.scrollWidth - el.clientWidth)),
            document: await page.evaluate(() => {
              const g = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
              return g.document.documentElement.scrollWidth - g.innerWidth;
            }),
          });
          const fits = async () => {
            const o = await overflow();
            return o.document <= 0 && o.tables.every((d) => d <= 0) ? true : o;
          };
          await shot(`wide-${name}-${width}`);
          await expect.poll(fits).toBe(true);
        }
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
      await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "wide-layout", desiredCount: 0 }));
      await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: "wide-layout", force: true }));
    }
    expect(pageErrors).toEqual([]);
  });

  test("a service's page for a name the cluster has no service of says so from DescribeServices' answer and lists no tasks; a deleted service's page shows it INACTIVE with its tasks", async () => {
    // From a page that lists no tasks, rendered, so that no refresh of a task list left behind
    // by an earlier test can be counted as this page's.
    await page.goto(`${b.endpoint}/console/#/clusters`);
    await expect.poll(() => page.locator('[data-testid="cluster-card"]').count()).toBeGreaterThan(0);
    await expect.poll(() => page.title()).toMatch(/^Clusters/);
    // The ECS actions the page calls, by name, from here on.
    const actions: string[] = [];
    const onRequest = (r: { headers(): Record<string, string> }) => {
      const target = r.headers()["x-amz-target"];
      if (target) actions.push(target.slice(target.lastIndexOf(".") + 1));
    };
    page.on("request", onRequest);
    try {
      await page.goto(`${b.endpoint}/console/#/services/${b.cluster}/no-such-service`);
      await expect.poll(() => page.locator("#main").textContent()).toMatch(/not found/i);
      expect(actions).toContain("DescribeServices");
      expect(actions.filter((a) => a === "ListTasks")).toEqual([]);
      expect(actions.filter((a) => a === "ListServiceDeployments")).toEqual([]);
      const missing = page.locator('[data-testid="service-not-found"][data-service="no-such-service"]');
      await expect(missing.textContent()).resolves.toMatch(/Service not found in cluster .*MISSING/);
      await shot("service-not-found");

      // Deleted, a service is INACTIVE: its page shows it so, with the tasks it had (ListTasks answers for it).
      await b.ecs.send(
        new CreateServiceCommand({ cluster: b.cluster, serviceName: "gone", taskDefinition: taskDefinitionArn, desiredCount: 0 }),
      );
      await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: "gone" }));
      actions.length = 0;
      await page.goto(`${b.endpoint}/console/#/services/${b.cluster}/gone`);
      const gone = page.locator('[data-testid="service-page"][data-service="gone"]');
      await expect.poll(() => gone.locator(".page-head .badge").first().textContent(), { timeout: LIVE_TIMEOUT_MS }).toBe("INACTIVE");
      expect(actions).toContain("ListTasks");
      await expect(gone.locator(".load-error").count()).resolves.toBe(0);
      await expect(gone.locator('[data-action="scale"]').count()).resolves.toBe(0);
    } finally {
      page.off("request", onRequest);
    }
    // No request was refused: the browser logged no 400.
    expect(pageErrors).toEqual([]);
  });

  test("leaving a page while it loads stops its load: the next page shows at once and the old one sends nothing more", async () => {
    const run = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: taskDefinitionArn }));
    const taskArn = run.tasks?.[0]?.taskArn as string;
    await page.goto(`${b.endpoint}/console/#/clusters`);
    await expect.poll(() => page.title()).toMatch(/^Clusters/);
    // The task list's ListTasks calls are held until released; every call is counted by action.
    const actions: string[] = [];
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(`${b.endpoint}/`, async (route) => {
      const target = route.request().headers()["x-amz-target"] ?? "";
      actions.push(target.slice(target.lastIndexOf(".") + 1));
      if (target.endsWith(".ListTasks")) await released;
      // The browser may have cancelled the request meanwhile: then there is nothing to continue.
      await route.continue().catch(() => {});
    });
    const count = (action: string) => actions.filter((a) => a === action).length;
    // The ECS actions whose request the page cancelled (or that failed otherwise).
    const cancelled: string[] = [];
    const onFailed = (r: { headers(): Record<string, string> }) => {
      const target = r.headers()["x-amz-target"] ?? "";
      cancelled.push(target.slice(target.lastIndexOf(".") + 1));
    };
    page.on("requestfailed", onFailed);
    try {
      await page.goto(`${b.endpoint}/console/#/tasks/${b.cluster}`);
      await expect.poll(() => count("ListTasks"), { timeout: LIVE_TIMEOUT_MS }).toBe(1);

      // Left while its ListTasks is held: the task definitions page shows without waiting for it.
      await page.goto(`${b.endpoint}/console/#/taskdefs`);
      await expect.poll(() => page.title(), { timeout: LIVE_TIMEOUT_MS }).toMatch(/^Task definitions/);
      await expect.poll(() => page.locator("#main").textContent()).toContain(taskDefinitionArn.split("/").pop()?.split(":")[0]);
      expect(count("ListTasks")).toBe(1);
      // The old page's held request was cancelled by the page, not left to finish.
      await expect.poll(() => cancelled.includes("ListTasks")).toBe(true);

      // Released, the old load goes no further: it would describe the listed task next.
      release();
      await page.goto(`${b.endpoint}/console/#/clusters`);
      await expect.poll(() => page.title()).toMatch(/^Clusters/);
      await expect.poll(() => page.locator('[data-testid="cluster-card"]').count()).toBeGreaterThan(0);
      expect(count("ListTasks")).toBe(1);
      expect(count("DescribeTasks")).toBe(0);
    } finally {
      release();
      page.off("requestfailed", onFailed);
      await page.unroute(`${b.endpoint}/`);
      await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: taskArn }));
    }
    expect(pageErrors).toEqual([]);
  });
});

/** Every task ARN's id ListTasks gives for a filter, all pages. */
/** A task definition whose container maps port 8080 and exits 3 on SIGTERM: the exit code the console shows is its own. */
function registerPortTask(family: string) {
  return b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: "app",
          image: TEST_IMAGE,
          memory: 16,
          stopTimeout: 5,
          command: ["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.2; done"],
          portMappings: [{ containerPort: 8080 }],
        },
      ],
    }),
  );
}

async function listTasks(filter: {
  serviceName?: string;
  family?: string;
  containerInstance?: string;
  desiredStatus: DesiredStatus;
}) {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, ...filter, nextToken }));
    ids.push(...(page.taskArns ?? []).map((a) => a.split("/").pop() as string));
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

/** The ARN of the fixture's one container instance. */
async function instanceArn() {
  const listed = await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }));
  return listed.containerInstanceArns?.[0] as string;
}

/** DescribeContainerInstances' answer for one instance, with its health. */
async function describeInstance(arn: string): Promise<ContainerInstance> {
  const r = await b.ecs.send(
    new DescribeContainerInstancesCommand({
      cluster: b.cluster,
      containerInstances: [arn],
      include: ["CONTAINER_INSTANCE_HEALTH"],
    }),
  );
  return r.containerInstances?.[0] as ContainerInstance;
}

describe("the web console against a server that requires SigV4", () => {
  let secured: SecuredServer;
  let signedPage: Page;

  beforeAll(async () => {
    secured = await startSecuredServer("t-console-sec");
    signedPage = await context.newPage();
    signedPage.on("pageerror", (err) => pageErrors.push(err.message));
  });
  afterAll(async () => {
    await signedPage?.close();
    await secured?.close();
  });

  test("asks for an access key, signs every request and the stream with it, and follows changes live", async () => {
    // Unsigned, the stream tells nothing (not even which clusters exist).
    const unsigned = await fetch(`${secured.endpoint}/berth/v1/stream`);
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe("MissingAuthenticationTokenException");

    await signedPage.goto(`${secured.endpoint}/console/`);
    const dialog = signedPage.locator("dialog[open]");
    await dialog.locator('[data-testid="signin-key"]').waitFor();
    await dialog.locator('[data-testid="signin-key"]').fill(ADMIN.accessKeyId);
    await dialog.locator('[data-testid="signin-secret"]').fill(ADMIN.secretAccessKey);
    await dialog.locator('[data-testid="signin-region"]').fill("us-east-1");
    await dialog.locator('[data-action="submit"]').click();
    await signedPage.locator("#identity:not([hidden]) .label").filter({ hasText: ADMIN.accessKeyId }).waitFor();
    await signedPage.locator('#live[data-state="live"]').waitFor({ timeout: 30_000 });

    // A cluster created by another client appears without a reload: the signed stream is live.
    const admin = ecsClient(secured.endpoint, "us-east-1", ADMIN);
    const name = `${secured.protectedCluster}-seen`;
    await admin.send(new CreateClusterCommand({ clusterName: name }));
    await signedPage.locator(`[data-testid="cluster-card"][data-cluster="${name}"]`).waitFor({ timeout: 30_000 });
    await signedPage.screenshot({ path: join(SHOTS, "signed-in.png"), fullPage: true });
    admin.destroy();
  });
});

/** The task of the table row holding keyboard focus, if any. */
function focusedTask(): Promise<string | null | undefined> {
  return page.evaluate(() =>
    (
      globalThis as unknown as {
        document: { activeElement: { closest(s: string): { getAttribute(n: string): string | null } | null } };
      }
    ).document.activeElement
      .closest("tr")
      ?.getAttribute("data-task"),
  );
}
