import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeServicesCommand, DescribeTasksCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ecsHandlers } from "../../services/api/handlers/index.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { ARTIFACTS_DIR } from "../support/processes.ts";

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
      containerDefinitions: [{ name: "web", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 1 }],
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
    if (m.type() === "error") pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await b?.close();
});

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
      (window as unknown as { berthTestMarker: string }).berthTestMarker = "same page";
    });

    await card.click();
    await page.waitForURL(new RegExp(`#/services/${b.cluster}$`));
    await page.locator('[data-action="create-service"]').click();
    const dialog = page.locator("dialog[open]");
    await dialog.locator(`[data-testid="create-taskdef"] option[value="${taskDefinitionArn}"]`).waitFor({ state: "attached" });
    await dialog.locator('[data-testid="create-taskdef"]').selectOption(taskDefinitionArn);
    await dialog.locator('[data-testid="create-name"]').fill("web");
    await dialog.locator('[data-testid="create-count"]').fill("2");
    await dialog.locator('[data-action="submit"]').click();

    // The service's page follows its tasks to RUNNING as the events arrive.
    await page.waitForURL(new RegExp(`#/services/${b.cluster}/web$`));
    await page.locator('[data-testid="service-page"][data-service="web"]').waitFor();
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(2);
    await page.locator('[data-testid="deployment-row"][data-rollout="COMPLETED"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect.poll(() => page.locator('[data-testid="service-events"]').textContent()).toContain("has reached a steady state");
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
    await page.locator(`[data-testid="task-row"][data-task="${victim}"][data-status="STOPPED"]`).waitFor({ timeout: LIVE_TIMEOUT_MS });
    await expect(victimRow.locator('[data-testid="stopped-reason"]').textContent()).resolves.toBe("stopped by the console test");
    await expect(victimRow.locator('[data-testid="exit-code"]').textContent()).resolves.toMatch(/^exit \d+$/);
    await expect.poll(() => runningRows().count(), { timeout: LIVE_TIMEOUT_MS }).toBe(3);
    const stopped = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: [victim] }));
    expect(stopped.tasks?.[0]).toMatchObject({ lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "stopped by the console test" });

    // The live feed listed what happened.
    await expect(page.locator('.feed-item[data-type="TaskStopped"]').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('.feed-item[data-type="ServiceCreated"]').count()).resolves.toBe(1);

    // The other pages.
    await page.locator('[data-nav="services"]').click();
    await page.locator('[data-testid="service-row"][data-service="web"]').waitFor();
    await expect(page.locator('[data-testid="service-row"][data-service="web"]').textContent()).resolves.toContain("3 / 3");
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

    expect(await page.evaluate(() => (window as unknown as { berthTestMarker?: string }).berthTestMarker)).toBe("same page");
    expect(pageErrors).toEqual([]);
  });

  test("the drain button asks ECS to drain the instance (UpdateContainerInstancesState)", async () => {
    await page.goto(`${b.endpoint}/console/#/instances/${b.cluster}`);
    const row = page.locator('[data-testid="instance-row"]').first();
    await row.waitFor();
    await row.locator('[data-action="drain"]').click();
    const dialog = page.locator("dialog[open]");
    await dialog.locator('[data-action="submit"]').click();
    if ("UpdateContainerInstancesState" in ecsHandlers) {
      await page.locator('[data-testid="instance-row"][data-status="DRAINING"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await shot("instances-draining");
    } else {
      // Until the action exists, the console shows ECS's answer in the dialog instead of failing silently.
      await expect.poll(() => dialog.locator(".form-error").textContent()).toContain("UpdateContainerInstancesState is not supported");
    }
  });
});
