import { type AnyStateMachine, type AnyStateNode, createActor, type SnapshotFrom } from "xstate";
import type { ExecutedAction, PureTransitions, TransitionOptions } from "./transition.ts";

/**
 * A flat machine's transitions as a table: state → event type → candidates in XState's order
 * (the state's own, then the root's), each with its guard, its assigns, the actions it asks for
 * and its target. Built from the machine's resolved state nodes, so the machine definition stays
 * the one source of truth; a step through the table does what XState's macrostep does for such a
 * machine, without the interpreter.
 *
 *   snapshot.value ──► row ──event.type──► [candidate, …] ──first guard that passes──►
 *     context' = assigns folded over the context (Object.assign({}, context, update), as XState)
 *     snapshot' = the target's (or the same state's) snapshot shape with context'
 *     actions   = the candidate's non-assign actions, in order
 */

type Fn = (...args: never[]) => unknown;
type Guard = (args: { context: unknown; event: unknown }, params: undefined) => boolean;
type Assignment = ((args: AssignArgs, params: undefined) => object) | Record<string, unknown>;
interface AssignArgs {
  context: unknown;
  event: unknown;
  spawn: () => never;
  self: unknown;
  system: unknown;
}

interface Candidate {
  guard: Guard | undefined;
  assigns: Assignment[];
  actions: readonly ExecutedAction[];
  /** State value after the step. */
  target: string | undefined;
}

const NO_ACTIONS: readonly ExecutedAction[] = Object.freeze([]);

/** The aggregate machines spawn nothing; an assign that tries is a machine this table cannot run. */
const noSpawn = (): never => {
  throw new Error("spawning from an aggregate machine's assign is not supported");
};

/** Thrown while compiling: the machine uses something the table does not model. */
class Unsupported extends Error {}

/**
 * The table for `machine`, or undefined when the machine uses more of XState than a flat table
 * models (nested or parallel states, entry/exit actions, eventless, delayed or wildcard
 * transitions, invocations, final states, built-in actions other than assign, guards with
 * parameters or combinators): the caller then keeps XState's interpreter.
 */
export function compileTransitions<M extends AnyStateMachine>(
  machine: M,
  interpreted: PureTransitions<M>,
  options: TransitionOptions<M> = {},
): PureTransitions<M> | undefined {
  try {
    return compile(
      machine,
      interpreted,
      (options.copyContext as ((c: unknown) => object) | undefined) ?? ((c) => ({ ...(c as object) })),
    );
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

function compile<M extends AnyStateMachine>(
  machine: M,
  interpreted: PureTransitions<M>,
  copy: (c: unknown) => object,
): PureTransitions<M> {
  const initial = interpreted.initial();
  const root = machine.root;
  if (root.type !== "compound") throw new Unsupported("root is not a compound state");
  assertInert(root);
  const states = Object.keys(root.states);
  /** Per state, the snapshot a step into it produces (only the context differs between tasks). */
  const shapes = new Map<string, object>();
  const rows = new Map<string, Map<string, Candidate[]>>();
  const rootCandidates = candidatesOf(machine, root);
  for (const key of states) {
    const node = root.states[key] as AnyStateNode;
    if (node.type !== "atomic") throw new Unsupported(`state ${key} is not atomic`);
    assertInert(node);
    shapes.set(key, machine.resolveState({ value: key, context: (initial as { context: unknown }).context }) as object);
    const own = candidatesOf(machine, node);
    const row = new Map<string, Candidate[]>();
    for (const type of new Set([...own.keys(), ...rootCandidates.keys()])) {
      row.set(type, [...(own.get(type) ?? []), ...(rootCandidates.get(type) ?? [])]);
    }
    rows.set(key, row);
  }
  const actor = createActor(machine);
  return {
    initial: () => initial,
    snapshot(value, context) {
      const shape = typeof value === "string" ? shapes.get(value) : undefined;
      if (!shape) return interpreted.snapshot(value, context);
      return new TableSnapshot(value as string, context, shape as XStateSnapshot) as unknown as SnapshotFrom<M>;
    },
    transition(snapshot, event) {
      const s = snapshot as unknown as { value: unknown; status: string; context: unknown };
      const row = typeof s.value === "string" && s.status === "active" ? rows.get(s.value) : undefined;
      // Not a state of the table: XState knows (and gets a snapshot of its own kind to copy).
      if (!row)
        return interpreted.transition((s instanceof TableSnapshot ? s.full() : snapshot) as SnapshotFrom<M>, event);
      const candidates = row.get((event as { type: string }).type);
      if (!candidates) return [snapshot, NO_ACTIONS];
      for (const c of candidates) {
        if (c.guard && !c.guard({ context: s.context, event }, undefined)) continue;
        let context = s.context;
        // Object.assign(copy, update): XState's Object.assign({}, context, update), on the caller's layout.
        for (const a of c.assigns)
          context = Object.assign(
            copy(context),
            assigned(a, { context, event, spawn: noSpawn, self: actor, system: actor.system }),
          );
        const value = c.target ?? s.value;
        if (context === s.context && value === s.value) return [snapshot, c.actions];
        const next = new TableSnapshot(
          value as string,
          context,
          shapes.get(value as string) as XStateSnapshot,
        ) as unknown as SnapshotFrom<M>;
        return [next, c.actions];
      }
      return [snapshot, NO_ACTIONS];
    },
  };
}

/** The members of XState's machine snapshot a TableSnapshot reads through to. */
interface XStateSnapshot {
  status: string;
  output: unknown;
  error: unknown;
  machine: AnyStateMachine;
  context: unknown;
  _nodes: unknown[];
  value: unknown;
  tags: Set<string>;
  children: Record<string, unknown>;
  historyValue: unknown;
  matches(this: unknown, value: unknown): boolean;
  hasTag(this: unknown, tag: string): boolean;
  can(this: unknown, event: unknown): boolean;
  getMeta(this: unknown): Record<string, unknown>;
  toJSON(this: unknown): object;
}

/**
 * A snapshot a table step makes: its state value and context as its own fields; everything else
 * XState's snapshot holds depends on the state alone (status, _nodes, tags, can(), …) and is read
 * through to the state's snapshot. 48 bytes instead of XState's sixteen-field object (144): a
 * control plane keeps one per task. XState's methods run on it as they would on their own
 * snapshot (they read `this`); where XState would copy a snapshot's fields (its interpreter),
 * `full()` gives it one of its own kind. Never modified after it is made, like XState's.
 */
class TableSnapshot {
  constructor(
    readonly value: string,
    readonly context: unknown,
    private readonly state: XStateSnapshot,
  ) {}
  get status() {
    return this.state.status;
  }
  get output() {
    return this.state.output;
  }
  get error() {
    return this.state.error;
  }
  get machine() {
    return this.state.machine;
  }
  get _nodes() {
    return this.state._nodes;
  }
  get tags() {
    return this.state.tags;
  }
  get children() {
    return this.state.children;
  }
  get historyValue() {
    return this.state.historyValue;
  }
  matches(value: unknown): boolean {
    return this.state.matches.call(this, value);
  }
  hasTag(tag: string): boolean {
    return this.state.hasTag.call(this, tag);
  }
  can(event: unknown): boolean {
    return this.state.can.call(this, event);
  }
  getMeta(): Record<string, unknown> {
    return this.state.getMeta.call(this);
  }
  toJSON(): object {
    return this.full().toJSON();
  }
  /** XState's own snapshot object for the same state and context. */
  full(): XStateSnapshot {
    return { ...this.state, context: this.context };
  }
}

/** What one assign action sets: XState's resolveAssign, without spawning. */
function assigned(a: Assignment, args: AssignArgs): object {
  if (typeof a === "function") return a(args, undefined);
  const partial: Record<string, unknown> = {};
  for (const key of Object.keys(a)) {
    const v = a[key];
    partial[key] = typeof v === "function" ? (v as (x: AssignArgs, p: undefined) => unknown)(args, undefined) : v;
  }
  return partial;
}

/** No behaviour on entering, leaving or being in the state other than its `on` transitions. */
function assertInert(node: AnyStateNode) {
  const n = node as unknown as {
    entry: unknown[];
    exit: unknown[];
    always?: unknown[];
    invoke: unknown[];
    config: { after?: unknown };
  };
  if (n.entry.length || n.exit.length) throw new Unsupported(`${node.id} has entry or exit actions`);
  if (n.always?.length) throw new Unsupported(`${node.id} has eventless transitions`);
  if (n.invoke.length) throw new Unsupported(`${node.id} invokes`);
  if (n.config.after) throw new Unsupported(`${node.id} has delayed transitions`);
}

function candidatesOf(machine: AnyStateMachine, node: AnyStateNode): Map<string, Candidate[]> {
  const out = new Map<string, Candidate[]>();
  for (const [type, defs] of node.transitions) {
    if (type === "*" || type.endsWith(".*")) throw new Unsupported(`${node.id} has a wildcard transition`);
    out.set(
      type,
      defs.map((t) => {
        if (t.target && (t.target.length !== 1 || t.target[0]?.parent !== machine.root))
          throw new Unsupported(`${node.id} targets a nested state`);
        return {
          guard: guardOf(machine, t.guard),
          ...actionsOf(machine, t.actions as unknown[]),
          target: t.target?.[0]?.key,
        };
      }),
    );
  }
  return out;
}

function guardOf(machine: AnyStateMachine, guard: unknown): Guard | undefined {
  if (guard === undefined) return undefined;
  const resolved =
    typeof guard === "function"
      ? guard
      : typeof guard === "string"
        ? (machine.implementations.guards as Record<string, unknown>)[guard]
        : undefined;
  if (typeof resolved !== "function" || "check" in resolved)
    throw new Unsupported("guard with parameters or a combinator");
  return resolved as Guard;
}

function actionsOf(
  machine: AnyStateMachine,
  actions: unknown[],
): { assigns: Assignment[]; actions: readonly ExecutedAction[] } {
  const assigns: Assignment[] = [];
  const collected: ExecutedAction[] = [];
  for (const action of actions) {
    if (typeof action !== "string" && typeof action !== "function") throw new Unsupported("action with parameters");
    const resolved =
      typeof action === "string" ? (machine.implementations.actions as Record<string, unknown>)[action] : action;
    if (resolved !== undefined && typeof resolved !== "function")
      throw new Unsupported("action that is not a function");
    const fn = resolved as (Fn & { resolve?: unknown; type?: unknown; assignment?: Assignment }) | undefined;
    if (fn && "resolve" in fn) {
      if (fn.type !== "xstate.assign" || fn.assignment === undefined)
        throw new Unsupported(`built-in action ${String(fn.type)}`);
      assigns.push(fn.assignment);
    } else collected.push({ type: typeof action === "string" ? action : (action as Fn).name || "(anonymous)" });
  }
  return { assigns, actions: collected.length ? Object.freeze(collected) : NO_ACTIONS };
}
