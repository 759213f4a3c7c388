import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EVENT_TYPE_HEADER, streams } from "../../events/names.ts";

/**
 * Follows a cluster's task events from now on (an ordered consumer delivering headers only, so
 * watching costs the server and this process little) and records when each task started or
 * stopped, by task id, on this process's clock.
 */
export class TaskWatch {
  readonly started = new Map<string, number>();
  readonly stopped = new Map<string, number>();
  private waiters: { done: () => boolean; resolve: () => void }[] = [];
  private close: (() => Promise<void>) | undefined;

  static async start(nc: NatsConnection, filter: string): Promise<TaskWatch> {
    const w = new TaskWatch();
    const consumer = await jetstream(nc).consumers.get(streams.events, {
      filter_subjects: filter,
      deliver_policy: DeliverPolicy.New,
      headers_only: true,
    });
    const messages = await consumer.consume({ max_messages: 5_000 });
    w.close = async () => {
      await messages.close();
    };
    void (async () => {
      for await (const m of messages) {
        const type = m.headers?.get(EVENT_TYPE_HEADER);
        const id = m.subject.slice(m.subject.lastIndexOf(".") + 1);
        if (type === "TaskStarted") w.started.set(id, performance.now());
        else if (type === "TaskStopped") w.stopped.set(id, performance.now());
        else continue;
        w.check();
      }
    })();
    return w;
  }

  /** Resolves once `done()` holds (checked after every recorded event); rejects on the deadline. */
  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private check() {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.done());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  async stop() {
    await this.close?.();
  }
}
