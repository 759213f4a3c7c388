import { assign, setup } from "xstate";
import type { TaskDefinitionEvent } from "../../events/taskdef.events.ts";
import type { TaskDefinitionRevision, TaskDefinitionStatus } from "../../events/taskdef.shapes.ts";

/**
 * The task-definition family aggregate: one machine per family, driven only by decided events.
 *
 *   empty ──Registered──► active ──Deregistered (the last ACTIVE revision)──► inactive
 *                           ▲                                                     │
 *                           └───────────────────── Registered ◄──────────────────┘
 *
 *   active also takes Registered, Deregistered (other revisions stay ACTIVE), DeleteRequested
 *   and TagsChanged; inactive also takes DeleteRequested and TagsChanged.
 *
 * Revisions live in context; each moves ACTIVE → INACTIVE → DELETE_IN_PROGRESS and never back.
 * Invariants:
 *  - revision numbers are `latestRevision + 1` and are never reused, even after deregistration
 *    or deletion (the family keeps its counter);
 *  - the state is `active` exactly when some revision is ACTIVE (what ListTaskDefinitionFamilies
 *    calls an ACTIVE family).
 * Guards are the legality rules `decide` consults through `snapshot.can()`. No clock, no ids: the
 * time and the ARN come in the events. Context is plain JSON so snapshots can be stored as they are.
 */

export interface TaskDefinitionContext {
  /** "" until the first registration. */
  family: string;
  /** Keyed by revision number. DELETE_IN_PROGRESS revisions stay until a purge removes them. */
  revisions: Record<number, TaskDefinitionRevision>;
  /** Highest revision ever registered in the family; 0 before the first. */
  latestRevision: number;
}

const EMPTY: TaskDefinitionContext = { family: "", revisions: {}, latestRevision: 0 };

type E<T extends TaskDefinitionEvent["type"]> = Extract<TaskDefinitionEvent, { type: T }>;
type Args = { context: TaskDefinitionContext; event: TaskDefinitionEvent };

const statusOf = (context: TaskDefinitionContext, event: TaskDefinitionEvent): TaskDefinitionStatus | undefined =>
  context.revisions[event.revision]?.status;

const activeCount = (context: TaskDefinitionContext) =>
  Object.values(context.revisions).filter((r) => r.status === "ACTIVE").length;

/** One revision replaced by `change(revision)`; the rest of context is untouched. */
function updateRevision(
  context: TaskDefinitionContext,
  n: number,
  change: (r: TaskDefinitionRevision) => TaskDefinitionRevision,
): Partial<TaskDefinitionContext> {
  const current = context.revisions[n];
  return current ? { revisions: { ...context.revisions, [n]: change(current) } } : {};
}

export const taskDefinitionMachine = setup({
  types: { context: {} as TaskDefinitionContext, events: {} as TaskDefinitionEvent },
  guards: {
    /** The next number of this family (a registration never skips or reuses one). */
    isNextRevision: ({ context, event }: Args) =>
      event.type === "TaskDefinitionRegistered" &&
      event.revision === context.latestRevision + 1 &&
      (context.family === "" || context.family === event.spec.family),
    revisionActive: ({ context, event }: Args) => statusOf(context, event) === "ACTIVE",
    /** Deregistering this revision leaves the family with no ACTIVE revision. */
    lastActiveRevision: ({ context, event }: Args) =>
      statusOf(context, event) === "ACTIVE" && activeCount(context) === 1,
    /** Only INACTIVE revisions can be deleted (DeleteTaskDefinitions). */
    revisionInactive: ({ context, event }: Args) => statusOf(context, event) === "INACTIVE",
    /** A revision being deleted is gone for every purpose but describing it. */
    revisionTaggable: ({ context, event }: Args) => {
      const s = statusOf(context, event);
      return s === "ACTIVE" || s === "INACTIVE";
    },
  },
  actions: {
    register: assign(({ context, event }) => {
      const e = event as E<"TaskDefinitionRegistered">;
      const revision: TaskDefinitionRevision = {
        ...e.spec,
        taskDefinitionArn: e.taskDefinitionArn,
        revision: e.revision,
        status: "ACTIVE",
        registeredAt: e.at,
        ...(e.registeredBy !== undefined ? { registeredBy: e.registeredBy } : {}),
        tags: e.tags,
      };
      return {
        family: e.spec.family,
        latestRevision: e.revision,
        revisions: { ...context.revisions, [e.revision]: revision },
      };
    }),
    deregister: assign(({ context, event }) =>
      updateRevision(context, event.revision, (r) => ({ ...r, status: "INACTIVE", deregisteredAt: event.at })),
    ),
    requestDelete: assign(({ context, event }) =>
      updateRevision(context, event.revision, (r) => ({
        ...r,
        status: "DELETE_IN_PROGRESS",
        deleteRequestedAt: event.at,
      })),
    ),
    retag: assign(({ context, event }) =>
      updateRevision(context, event.revision, (r) => ({ ...r, tags: (event as E<"TaskDefinitionTagsChanged">).tags })),
    ),
  },
}).createMachine({
  id: "taskDefinitionFamily",
  initial: "empty",
  context: EMPTY,
  states: {
    empty: {
      on: { TaskDefinitionRegistered: { guard: "isNextRevision", target: "active", actions: "register" } },
    },
    active: {
      on: {
        TaskDefinitionRegistered: { guard: "isNextRevision", actions: "register" },
        TaskDefinitionDeregistered: [
          { guard: "lastActiveRevision", target: "inactive", actions: "deregister" },
          { guard: "revisionActive", actions: "deregister" },
        ],
        TaskDefinitionDeleteRequested: { guard: "revisionInactive", actions: "requestDelete" },
        TaskDefinitionTagsChanged: { guard: "revisionTaggable", actions: "retag" },
      },
    },
    inactive: {
      on: {
        TaskDefinitionRegistered: { guard: "isNextRevision", target: "active", actions: "register" },
        TaskDefinitionDeleteRequested: { guard: "revisionInactive", actions: "requestDelete" },
        TaskDefinitionTagsChanged: { guard: "revisionTaggable", actions: "retag" },
      },
    },
  },
});
