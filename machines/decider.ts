/**
 * The shape every aggregate's decider shares (Emmett style):
 *
 *   decide(command, state, ctx) → Decision   (events to append, or a rejection in ECS's words)
 *   evolve(state, event)       → state       (XState `transition()`; actions are discarded on replay)
 *
 * A rejection carries the ECS error code and message the API returns as it is.
 */

export interface Rejection {
  code: string;
  message: string;
}

export type Decision<E> = { ok: true; events: E[] } | { ok: false; rejection: Rejection };

export const accept = <E>(...events: E[]): Decision<E> => ({ ok: true, events });
export const reject = <E = never>(code: string, message: string): Decision<E> => ({
  ok: false,
  rejection: { code, message },
});

/** Exhaustiveness check for switches over event or command types. */
export function unreachable(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}
