import { expect, test } from "vitest";
import { parseDurationMs, taskCleanupWaitFromEnv } from "../../services/agent/durations.ts";

test("durations as ECS's agent settings write them, or seconds", () => {
  expect(parseDurationMs("3h")).toBe(3 * 3_600_000);
  expect(parseDurationMs("1h30m")).toBe(90 * 60_000);
  expect(parseDurationMs("90s")).toBe(90_000);
  expect(parseDurationMs("0s")).toBe(0);
  expect(parseDurationMs(" 45 ")).toBe(45_000);
  for (const bad of ["", "h", "3x", "-1s", "1.5h", "30m1h"]) expect(parseDurationMs(bad), bad).toBeUndefined();
});

test("the cleanup wait: Berth's variable, else ECS's agent's, else the default; a bad one is said", () => {
  expect(taskCleanupWaitFromEnv({})).toEqual({});
  expect(taskCleanupWaitFromEnv({ ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: "10m" })).toEqual({ ms: 600_000 });
  expect(taskCleanupWaitFromEnv({ BERTH_TASK_CLEANUP_WAIT: "1m", ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: "10m" })).toEqual({ ms: 60_000 });
  expect(taskCleanupWaitFromEnv({ BERTH_TASK_CLEANUP_WAIT: "soon" })).toEqual({ bad: "soon" });
});
