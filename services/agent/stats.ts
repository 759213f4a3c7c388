import type { Logger } from "pino";
import { labels } from "../../events/agent.ts";
import type { DockerPort } from "./docker/port.ts";
import type { ObservationPublisher } from "./publisher.ts";
import { Aborted, sleep } from "./retry.ts";

/**
 * Every `intervalMs`, samples Docker stats of each running task container of this agent and
 * publishes one TaskStatsObserved per task (CPU percent and memory summed over its containers).
 */
export async function statsLoop(d: {
  docker: DockerPort;
  publisher: ObservationPublisher;
  instanceId: string;
  intervalMs: number;
  clock: () => number;
  log: Logger;
  signal: AbortSignal;
}): Promise<void> {
  while (!d.signal.aborted) {
    try {
      await sleep(d.intervalMs, d.signal);
      const rows = await d.docker.listContainers([`${labels.managed}=true`, `${labels.instanceId}=${d.instanceId}`], {
        signal: d.signal,
      });
      const byTask = new Map<string, string[]>();
      for (const r of rows) {
        const arn = r.labels[labels.taskArn];
        if (!arn || r.state !== "running" || !r.labels[labels.containerName]) continue;
        byTask.set(arn, [...(byTask.get(arn) ?? []), r.id]);
      }
      await Promise.all(
        [...byTask].map(async ([taskArn, ids]) => {
          const samples = await Promise.all(
            ids.map((id) => d.docker.stats(id, { signal: d.signal }).catch(() => undefined)),
          );
          const ok = samples.filter((s) => s !== undefined);
          if (ok.length === 0) return;
          const limits = ok.map((s) => s.memoryLimitBytes).filter((l) => l > 0);
          await d.publisher.publish({
            type: "TaskStatsObserved",
            at: d.clock(),
            instanceId: d.instanceId,
            taskArn,
            cpuPercent: ok.reduce((a, s) => a + s.cpuPercent, 0),
            memoryBytes: ok.reduce((a, s) => a + s.memoryBytes, 0),
            ...(limits.length ? { memoryLimitBytes: Math.max(...limits) } : {}),
          });
        }),
      );
    } catch (err) {
      if (err instanceof Aborted || d.signal.aborted) return;
      d.log.warn({ err }, "stats sample failed");
    }
  }
}
