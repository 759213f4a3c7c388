import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
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

let b: BerthFixture;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let taskDefinitionArn: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  b = await startBerth("t-console");
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

    await page.locator('[data-nav="tasks"]').click();
    await page.locator(`[data-testid="task-row"][data-task="${victim}"][data-status="STOPPED"]`).waitFor();
    await expect.poll(() => runningRows().count()).toBe(3);
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
});

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
