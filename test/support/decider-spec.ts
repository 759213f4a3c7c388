import { expect } from "vitest";
import type { Decision } from "../../machines/decider.ts";

export interface Decider<S, C, E> {
  initial: () => S;
  evolve: (s: S, e: E) => S;
  decide: (c: C, s: S) => Decision<E>;
}

/**
 * given(events).when(command).thenEvents(events) — the unit test of every decision (Emmett style).
 * `thenEvents` compares the decided events exactly; `rejects` checks ECS's error code (and message).
 */
export function specFor<S, C, E>(d: Decider<S, C, E>) {
  return {
    given(events: E[]) {
      const state = events.reduce(d.evolve, d.initial());
      return {
        state,
        when(command: C) {
          const decision = d.decide(command, state);
          return {
            decision,
            thenEvents(expected: E[]) {
              if (!decision.ok) throw new Error(`expected events, got rejection ${JSON.stringify(decision.rejection)}`);
              expect(decision.events).toEqual(expected);
            },
            thenTypes(expected: string[]) {
              if (!decision.ok) throw new Error(`expected events, got rejection ${JSON.stringify(decision.rejection)}`);
              expect(decision.events.map((e) => (e as { type: string }).type)).toEqual(expected);
            },
            rejects(code: string, message?: string | RegExp) {
              if (decision.ok) throw new Error(`expected rejection ${code}, got ${JSON.stringify(decision.events)}`);
              expect(decision.rejection.code).toBe(code);
              if (message !== undefined) expect(decision.rejection.message).toMatch(message);
            },
          };
        },
      };
    },
  };
}
