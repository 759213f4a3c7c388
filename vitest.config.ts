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
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
