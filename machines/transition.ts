import { type ActorScope, type AnyStateMachine, createActor, type EventFromLogic, type SnapshotFrom } from "xstate";

/** An action the machine asked for (an intent), as XState's `transition()` returns it. */
export interface ExecutedAction {
  type: string;
}

export interface PureTransitions<M extends AnyStateMachine> {
  /** The machine's initial snapshot (computed once; snapshots are immutable values). */
  initial(): SnapshotFrom<M>;
  /** `transition(machine, snapshot, event)`: the next snapshot and the actions, none executed. */
  transition(snapshot: SnapshotFrom<M>, event: EventFromLogic<M>): [SnapshotFrom<M>, ExecutedAction[]];
}

/**
 * XState's pure `transition()` and `initialTransition()` without their per-call set-up. Those
 * functions build a throwaway actor on every call — and building an actor computes the machine's
 * initial state — so on a long replay the set-up costs more than the transition itself. This
 * builds one inert scope per machine, whose action executor only collects, and calls the
 * machine's own `transition` with it: the same code path, the same snapshots and actions.
 *
 * Sound because transitions are synchronous (one collector at a time) and the aggregate machines
 * invoke and spawn no children, so nothing is ever registered in the scope's system.
 */
export function pureTransitions<M extends AnyStateMachine>(machine: M): PureTransitions<M> {
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
  return {
    initial: () => initial,
    transition(snapshot, event) {
      collected = [];
      const next = machine.transition(snapshot, event, scope) as SnapshotFrom<M>;
      const actions = collected;
      collected = [];
      return [next, actions];
    },
  };
}
