import type { Logger } from "pino";
import { envelope, type Meta } from "../../events/envelope.ts";
import type { Decision, Rejection } from "../../machines/decider.ts";
import { ConcurrencyError, type EventStore } from "../store/event-store.ts";
import type { LogFollower } from "../store/log-follower.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import type { Agg } from "./read-model.ts";

/** Conflicts are rare (one writer per aggregate is the norm); a handful of retries is plenty. */
const MAX_ATTEMPTS = 6;

export type Outcome<S, E> =
  | { ok: true; events: E[]; agg: Agg<S> | undefined; seqs: number[] }
  | { ok: false; rejection: Rejection };

export interface CommandSpec<S, E extends { type: string; at: number }> {
  /** The aggregate's subject. */
  subject: string;
  /** The resource the events are about (CloudEvents `subject`), e.g. the task ARN. */
  resource: string;
  /** Current state from the read model (undefined when the aggregate does not exist yet). */
  get: () => Agg<S> | undefined;
  initial: () => S;
  decide: (state: S) => Decision<E>;
  meta?: Partial<Meta>;
  /**
   * false: a conflict is not retried but thrown (ConcurrencyError). For fenced writes whose
   * decision was made on state read earlier and must not be re-decided blindly.
   */
  retry?: boolean;
}

/**
 * Runs commands against aggregates: decide on the read model's state, append with the expected
 * subject sequence, and on a conflict wait until the read model has the winner's events and
 * decide again. Commands on one aggregate are serialised inside this process (a keyed queue) so
 * they do not conflict with each other; conflicts then only come from other processes.
 *
 * Returns after the read model includes the appended events, so callers read their own writes.
 */
export class CommandBus {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly store: EventStore,
    private readonly follower: LogFollower,
    private readonly log: Logger,
    private readonly source: string,
  ) {}

  execute<S, E extends { type: string; at: number }>(spec: CommandSpec<S, E>): Promise<Outcome<S, E>> {
    return this.queue.run(spec.subject, () => this.attempt(spec));
  }

  private async attempt<S, E extends { type: string; at: number }>(spec: CommandSpec<S, E>): Promise<Outcome<S, E>> {
    for (let attempt = 1; ; attempt++) {
      const agg = spec.get();
      const decision = spec.decide(agg?.snapshot ?? spec.initial());
      if (!decision.ok) return decision;
      if (decision.events.length === 0) return { ok: true, events: [], agg, seqs: [] };
      const version = agg?.version ?? 0;
      const meta: Meta = { source: this.source, ...spec.meta };
      const envelopes = decision.events.map((e, i) => envelope(spec.subject, spec.resource, version + i + 1, e, meta));
      try {
        const acks = await this.store.append(spec.subject, envelopes, agg?.seq ?? 0);
        const last = acks[acks.length - 1]?.seq ?? 0;
        await this.follower.waitFor(last);
        return { ok: true, events: decision.events, agg: spec.get(), seqs: acks.map((a) => a.seq) };
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS || spec.retry === false) throw err;
        this.log.debug({ subject: spec.subject, attempt }, "append conflict; re-reading and deciding again");
        const head = await this.store.lastSeq(spec.subject);
        await this.follower.waitFor(head);
      }
    }
  }
}
