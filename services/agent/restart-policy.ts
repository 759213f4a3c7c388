import type { ContainerDefinition } from "../../events/taskdef.shapes.ts";

/**
 * ECS's container restart policy (pure): a container whose definition enables `restartPolicy` is
 * restarted in place — same container, same task — when it exits, unless
 *
 *   - the task is being stopped,
 *   - its exit code is one of `ignoredExitCodes`, or
 *   - it has not run for `restartAttemptPeriod` seconds (default 300) since it started, or since
 *     its last restart: a container that keeps failing fast is left stopped, and then the task
 *     goes the way any exit takes it (an essential container stops the task).
 *
 * The control plane never hears of a restart it did not need to act on: the container stays
 * RUNNING for it.
 */

/** ECS's default restartAttemptPeriod, seconds. */
export const DEFAULT_RESTART_ATTEMPT_PERIOD_S = 300;

export interface RestartInput {
  policy: ContainerDefinition["restartPolicy"];
  exitCode: number;
  /** Epoch ms Docker started the container (its latest start). */
  startedAt: number | undefined;
  /** Epoch ms of the agent's last restart of it, if any. */
  lastRestartAt: number | undefined;
  stopRequested: boolean;
  now: number;
}

export function shouldRestart(i: RestartInput): { restart: true } | { restart: false; why: string } {
  if (!i.policy?.enabled) return { restart: false, why: "no restart policy" };
  if (i.stopRequested) return { restart: false, why: "the task is stopping" };
  if (i.policy.ignoredExitCodes?.includes(i.exitCode)) return { restart: false, why: `exit code ${i.exitCode} is ignored` };
  const since = i.lastRestartAt ?? i.startedAt;
  const periodMs = (i.policy.restartAttemptPeriod ?? DEFAULT_RESTART_ATTEMPT_PERIOD_S) * 1000;
  if (since === undefined || i.now - since < periodMs)
    return { restart: false, why: "it exited before the restart attempt period elapsed" };
  return { restart: true };
}
