import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import type { Directive } from "../../events/agent.ts";
import { runtimeSpecOf, taskArnOf } from "../../machines/task/task.spec.ts";
import type { AgentGateway } from "./agents.ts";
import type { Intent, ReadModel } from "./read-model.ts";

const CHECKPOINT_KEY = "reactor";
/** Checkpoint writes are batched: at most one KV write per interval. */
const CHECKPOINT_INTERVAL_MS = 250;
const RETRY_DELAY_MS = 500;
/** Intents executed concurrently; far below what a directive msgID's duplicate window absorbs. */
const WINDOW = 256;

/**
 * Executes the intents machines return when events are folded — today: start or stop a task on
 * its agent — at least once, in log order. Its position is a checkpoint in KV; intents of events
 * at or before the checkpoint are skipped on replay. A repeat after a crash is harmless: the
 * directive's msgID deduplicates in the broker and the agent's work is idempotent.
 */
export class Reactor {
  private checkpoint = 0;
  private done = 0;
  private queue: Intent[] = [];
  private draining = false;
  private stopped = false;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly model: ReadModel,
    private readonly gateway: AgentGateway,
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {}

  async init(): Promise<void> {
    const e = await this.kv.get(CHECKPOINT_KEY);
    this.checkpoint = e && e.operation === "PUT" ? Number(e.string()) || 0 : 0;
    this.done = this.checkpoint;
  }

  /**
   * Every intent of the events up to `seq` was executed before this start (the snapshot the read
   * model was loaded from was taken with the reactor idle), so none of them is executed again.
   */
  raiseCheckpoint(seq: number) {
    this.checkpoint = Math.max(this.checkpoint, seq);
    this.done = Math.max(this.done, this.checkpoint);
  }

  /** Nothing queued or executing: every intent of the events folded so far has been executed. */
  idle(): boolean {
    return this.queue.length === 0 && !this.draining;
  }

  enqueue(intents: Intent[]) {
    for (const i of intents) if (i.seq > this.checkpoint) this.queue.push(i);
    if (this.queue.length > 0) void this.drain();
  }

  private async drain() {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        // A window of intents at once: their directives leave in order on one connection (a
        // task's start still precedes its stop) and in one write, and their acks are awaited
        // together instead of one round trip each.
        const window = this.queue.slice(0, WINDOW);
        const results = await Promise.allSettled(window.map((intent) => this.execute(intent)));
        const failed = results.findIndex((r) => r.status === "rejected");
        const ok = failed < 0 ? window.length : failed;
        if (ok > 0) {
          this.queue.splice(0, ok);
          this.done = Math.max(this.done, (window[ok - 1] as Intent).seq);
          this.scheduleSave();
        }
        if (failed >= 0) {
          // The intents after it run again too: a repeated directive is deduplicated by its msgID.
          this.log.warn(
            { err: (results[failed] as PromiseRejectedResult).reason, intent: window[failed] },
            "intent failed; retrying",
          );
          await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async execute(intent: Intent) {
    const task = this.model.tasks.get(intent.subject);
    if (!task) return;
    const t = task.snapshot.context;
    if (!t.instanceId) return;
    const region = task.region;
    let directive: Directive;
    let msgID: string;
    switch (intent.name) {
      case "startOnAgent":
        // Stopped before its start went out (or replayed after it stopped): never start it; the
        // stop directive that follows lets the agent report each container STOPPED.
        if (t.desiredStatus === "STOPPED") return;
        directive = { type: "StartTask", at: this.clock(), taskArn: taskArnOf(t), spec: runtimeSpecOf(t) };
        msgID = `${t.taskId}:start`;
        break;
      case "stopOnAgent":
        directive = {
          type: "StopTask",
          at: this.clock(),
          taskArn: taskArnOf(t),
          taskId: t.taskId,
          reason: t.stoppedReason ?? "Task stopped",
          containers: t.containers.map((c) => c.name),
        };
        msgID = `${t.taskId}:stop`;
        break;
      default:
        return;
    }
    await this.gateway.direct(region, t.instanceId, directive, msgID);
  }

  private scheduleSave() {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, CHECKPOINT_INTERVAL_MS);
  }

  private async save() {
    if (this.done <= this.checkpoint) return;
    const at = this.done;
    try {
      await this.kv.put(CHECKPOINT_KEY, String(at));
      this.checkpoint = Math.max(this.checkpoint, at);
    } catch (err) {
      this.log.warn({ err }, "reactor checkpoint not saved; will retry");
      this.scheduleSave();
    }
  }

  async stop() {
    this.stopped = true;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
  }
}
