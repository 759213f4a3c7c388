import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites share one Docker engine; files run in parallel but each names its own resources.
    pool: "forks",
    maxWorkers: 2,
    // The pinned AWS SDK warns that its future releases need Node 22; that is not news to a test run.
    // Agents the tests start remove a stopped task's containers at once (the default keeps them 3 h,
    // as ECS's agent does), so that tests can see a task leave nothing behind.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", BERTH_TASK_CLEANUP_WAIT: "0s" },
  },
});
