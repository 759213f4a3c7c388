import {
  type ActorScope,
  type AnyStateMachine,
  type ContextFrom,
  createActor,
  type EventFromLogic,
  type SnapshotFrom,
} from "xstate";
import { compileTransitions } from "./transition.table.ts";

/** An action the machine asked for (an intent), as XState's `transition()` returns it. */
export interface ExecutedAction {
  type: string;
}

export interface PureTransitions<M extends AnyStateMachine> {
  /** The machine's initial snapshot (computed once; snapshots are immutable values). */
  initial(): SnapshotFrom<M>;
  /**
   * `transition(machine, snapshot, event)`: the next snapshot and the actions, none executed. The
   * action list may be shared between calls: read it, never modify it.
   */
  transition(snapshot: SnapshotFrom<M>, event: EventFromLogic<M>): [SnapshotFrom<M>, readonly ExecutedAction[]];
  /** The snapshot of an aggregate in state `value` with `context` (one restored from a read-model snapshot). */
  snapshot(value: unknown, context: ContextFrom<M>): SnapshotFrom<M>;
}

/**
 * XState's pure `transition()` and `initialTransition()` without their per-call cost.
 *
 * Those functions build a throwaway actor on every call, and XState's interpreter then computes
 * exit and entry sets, a new snapshot per assign and a state value per step — on a long replay
 * many times the work of the assigns themselves. The aggregate machines are flat (atomic states
 * under the root; no entry, exit, eventless, delayed or invoked behaviour), so a step of theirs is
 * only: the first candidate transition whose guard passes, its assigns folded into the context,
 * its other actions collected, its target state taken. `compileTransitions` (transition.table.ts)
 * reads that table from the machine definition itself, which stays the one source of truth, and
 * refuses any machine using more of XState than this; such a machine keeps XState's interpreter,
 * called with one reusable inert scope. test/property/machines.transition.property.test.ts holds
 * both equal to `transition()` on random event sequences.
 */
export function pureTransitions<M extends AnyStateMachine>(
  machine: M,
  options: TransitionOptions<M> = {},
): PureTransitions<M> {
  const interpreted = interpretedTransitions(machine, options);
  return compileTransitions(machine, interpreted, options) ?? interpreted;
}

export interface TransitionOptions<M extends AnyStateMachine> {
  /**
   * A copy of a context in the object layout the caller keeps contexts in (e.g. one fixed shape):
   * every context a transition changes is built on such a copy instead of `{ ...context }`.
   */
  copyContext?: (context: ContextFrom<M>) => ContextFrom<M>;
}

/**
 * The machine's own `transition` with one inert scope, whose action executor only collects: the
 * same code path as XState's `transition()`, the same snapshots and actions.
 *
 * Sound because transitions are synchronous (one collector at a time) and the aggregate machines
 * invoke and spawn no children, so nothing is ever registered in the scope's system.
 */
export function interpretedTransitions<M extends AnyStateMachine>(
  machine: M,
  options: TransitionOptions<M> = {},
): PureTransitions<M> {
  const copy = options.copyContext;
  let collected: ExecutedAction[] = [];
  const self = createActor(machine);
  const scope = {
    self,
    id: "",
    sessionId: "",
    logger: () => {},
    defer: () => {},
    emit: () => {},
    system: self.system,
    stopChild: () => {},
    actionExecutor: (action: ExecutedAction) => {
      collected.push(action);
    },
  } as unknown as ActorScope<SnapshotFrom<M>, EventFromLogic<M>>;
  const initial = machine.getInitialSnapshot(scope) as SnapshotFrom<M>;
  collected = [];
  /** XState's snapshot per state value: an aggregate's differs from it only by its context. */
  const states = new Map<string, object>();
  return {
    initial: () => initial,
    snapshot(value, context) {
      const key = typeof value === "string" ? value : JSON.stringify(value);
      let state = states.get(key);
      if (!state) {
        state = machine.resolveState({ value: value as never, context }) as object;
        states.set(key, state);
      }
      return { ...state, context } as SnapshotFrom<M>;
    },
    transition(snapshot, event) {
      collected = [];
      const next = machine.transition(snapshot, event, scope) as SnapshotFrom<M>;
      // The snapshot is new and not yet shared: giving it the copy of its context is invisible.
      const fresh = next as { context: ContextFrom<M> };
      if (copy && fresh.context !== (snapshot as { context: unknown }).context) fresh.context = copy(fresh.context);
      const actions = collected;
      collected = [];
      return [next, actions];
    },
  };
}
