import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import type { Heartbeat } from "../../events/agent.ts";
import { heartbeatKey } from "../../events/names.ts";
import { Aborted, sleep } from "./retry.ts";

export type RuntimeHealth = NonNullable<Heartbeat["runtime"]>;

/**
 * Puts a Heartbeat at `heartbeatKey(region, id)` every `intervalMs` until the signal aborts. Each
 * carries the result of `checkRuntime` (ECS's agent's periodic container runtime check), made
 * just before it.
 */
export async function heartbeatLoop(
  kv: KV,
  hb: { region: string; cluster: string; instanceId: string; bootAt: number; intervalMs: number },
  clock: () => number,
  log: Logger,
  signal: AbortSignal,
  checkRuntime?: () => Promise<RuntimeHealth>,
): Promise<void> {
  const key = heartbeatKey(hb.region, hb.instanceId);
  while (!signal.aborted) {
    const runtime = checkRuntime ? await checkRuntime() : undefined;
    if (signal.aborted) return;
    const value: Heartbeat = { cluster: hb.cluster, instanceId: hb.instanceId, at: clock(), bootAt: hb.bootAt, runtime };
    try {
      await kv.put(key, JSON.stringify(value));
    } catch (err) {
      if (!signal.aborted) log.warn({ err }, "heartbeat not stored");
    }
    try {
      await sleep(hb.intervalMs, signal);
    } catch (err) {
      if (err instanceof Aborted) return;
      throw err;
    }
  }
}
