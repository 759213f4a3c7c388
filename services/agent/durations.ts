/**
 * A duration as ECS's agent settings write them (`3h`, `1h30m`, `90s`, `0s`) or a plain number
 * of seconds, in milliseconds; undefined when it is neither.
 */
export function parseDurationMs(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === "") return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** The task cleanup wait the environment asks for: BERTH_TASK_CLEANUP_WAIT, or ECS's agent's name for it. */
export function taskCleanupWaitFromEnv(env: NodeJS.ProcessEnv): { ms?: number; bad?: string } {
  const value = env.BERTH_TASK_CLEANUP_WAIT ?? env.ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION;
  if (value === undefined) return {};
  const ms = parseDurationMs(value);
  return ms === undefined ? { bad: value } : { ms };
}
