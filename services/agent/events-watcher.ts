import type { Logger } from "pino";
import type { ContainerEvent, DockerPort } from "./docker/port.ts";
import { Aborted, backoffMs, sleep } from "./retry.ts";

/** Docker actions that change what ECS knows about a container. */
const INTERESTING = /^(start|die|oom|destroy|kill|health_status)/;

/**
 * Follows Docker's container events for the agent's labels and hands each interesting one to
 * `onEvent`. When the stream breaks (engine restart, socket closed) it reconnects with backoff and
 * then calls `repair`, which lists and inspects every managed container: events missed during the
 * gap are recovered by reading state, never by hoping nothing happened.
 *
 * Resolves `connected` once the first stream is open, so the caller can reconcile knowing that
 * every later change will arrive as an event.
 */
export function watchContainerEvents(d: {
  docker: DockerPort;
  labels: string[];
  onEvent: (e: ContainerEvent) => void;
  repair: () => Promise<void>;
  log: Logger;
  signal: AbortSignal;
}): { connected: Promise<void>; done: Promise<void> } {
  let markConnected!: () => void;
  const connected = new Promise<void>((r) => {
    markConnected = r;
  });
  const done = (async () => {
    let first = true;
    for (let attempt = 0; !d.signal.aborted; attempt++) {
      try {
        const stream = await d.docker.containerEvents(d.labels, { signal: d.signal });
        if (!first) {
          d.log.info("docker event stream reconnected; repairing from a full listing");
          await d.repair();
        }
        first = false;
        markConnected();
        attempt = 0;
        for await (const e of stream) {
          if (INTERESTING.test(e.action)) d.onEvent(e);
        }
        if (!d.signal.aborted) d.log.warn("docker event stream ended");
      } catch (err) {
        if (d.signal.aborted) break;
        d.log.warn({ err, attempt }, "docker event stream unavailable");
      }
      try {
        await sleep(backoffMs(attempt, 5_000), d.signal);
      } catch (err) {
        if (!(err instanceof Aborted)) throw err;
      }
    }
  })();
  return { connected, done };
}
