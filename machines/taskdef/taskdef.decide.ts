import type { SnapshotFrom } from "xstate";
import { arns, type Scope } from "../../events/arns.ts";
import type { Tag } from "../../events/shapes.ts";
import type { TaskDefinitionEvent } from "../../events/taskdef.events.ts";
import type { TaskDefinitionRevision, TaskDefinitionSpec } from "../../events/taskdef.shapes.ts";
import { accept, type Decision, reject, unreachable } from "../decider.ts";
import { mergeTags, removeTags } from "../tags.ts";
import { pureTransitions } from "../transition.ts";
import { countedTags, MAX_TAGS, validateTags } from "./rules/tags.ts";
import { taskDefinitionMachine } from "./taskdef.machine.ts";

export type TaskDefinitionSnapshot = SnapshotFrom<typeof taskDefinitionMachine>;

/**
 * Commands on one family. `Register` carries a spec that already passed
 * `validateRegisterTaskDefinition`; the revision number, ARN and time are decided here.
 */
export type TaskDefinitionCommand =
  | { type: "Register"; spec: TaskDefinitionSpec; tags: Tag[]; registeredBy?: string }
  | { type: "Deregister"; revision: number }
  | { type: "Delete"; revision: number }
  | { type: "TagRevision"; revision: number; tags: Tag[] }
  | { type: "UntagRevision"; revision: number; tagKeys: string[] };

export interface DecideContext {
  /** Region and account of the request: the ARN of a new revision is built from them. */
  scope: Scope;
  /** Request time, epoch ms: the `at` of every event decided. */
  now: number;
}

/** [seen] DeregisterTaskDefinition on a revision that does not exist (ClientException). */
export const TASK_DEFINITION_NOT_FOUND = "The specified task definition does not exist.";
/** DeleteTaskDefinitions failure reasons (ECS's exact words not confirmed). */
export const DELETE_NOT_FOUND =
  "The specified task definition does not exist. Specify a valid account, family, revision and try again.";
export const DELETE_STILL_ACTIVE =
  "The specified task definition is still in ACTIVE status. Please deregister the target and try again.";

const taskDefinitionTransitions = pureTransitions(taskDefinitionMachine);

export const initialTaskDefinition = (): TaskDefinitionSnapshot => taskDefinitionTransitions.initial();

/** The aggregate in state `value` with `context`, as a fold would have left it (a read-model snapshot restored). */
export const restoreTaskDefinition = (
  value: unknown,
  context: TaskDefinitionSnapshot["context"],
): TaskDefinitionSnapshot => taskDefinitionTransitions.snapshot(value, context);

/** evolve: one decided event applied; actions are assigns only, so nothing is discarded. */
export function evolveTaskDefinition(
  snapshot: TaskDefinitionSnapshot,
  event: TaskDefinitionEvent,
): TaskDefinitionSnapshot {
  return taskDefinitionTransitions.transition(snapshot, event)[0];
}

/** Replay: the family's events from the log, in order. */
export function foldTaskDefinition(events: readonly TaskDefinitionEvent[]): TaskDefinitionSnapshot {
  return events.reduce(evolveTaskDefinition, initialTaskDefinition());
}

/** One revision as DescribeTaskDefinition shows it; undefined when the family never had it. */
export function revisionOf(snapshot: TaskDefinitionSnapshot, revision: number): TaskDefinitionRevision | undefined {
  return snapshot.context.revisions[revision];
}

/** The highest-numbered ACTIVE revision: what a bare family name refers to. */
export function latestActive(snapshot: TaskDefinitionSnapshot): TaskDefinitionRevision | undefined {
  for (let n = snapshot.context.latestRevision; n >= 1; n--) {
    const r = snapshot.context.revisions[n];
    if (r?.status === "ACTIVE") return r;
  }
  return undefined;
}

/** A revision that can still be acted on (not unknown, not being deleted). */
const live = (r: TaskDefinitionRevision | undefined): r is TaskDefinitionRevision =>
  r !== undefined && r.status !== "DELETE_IN_PROGRESS";

const sameTags = (a: readonly Tag[], b: readonly Tag[]) =>
  a.length === b.length && a.every((t, i) => t.key === b[i]?.key && t.value === b[i]?.value);

/**
 * decide: a command and the family's current snapshot (undefined before its first event) → the
 * events that record it, or ECS's rejection. Legality is the machine's (`snapshot.can`); the
 * wording of a refusal is chosen here from the revision's status.
 */
export function decideTaskDefinition(
  command: TaskDefinitionCommand,
  snapshot: TaskDefinitionSnapshot | undefined,
  ctx: DecideContext,
): Decision<TaskDefinitionEvent> {
  const s = snapshot ?? initialTaskDefinition();
  switch (command.type) {
    case "Register": {
      const { family } = command.spec;
      const revision = s.context.latestRevision + 1;
      const e: TaskDefinitionEvent = {
        type: "TaskDefinitionRegistered",
        at: ctx.now,
        revision,
        taskDefinitionArn: arns.taskDefinition(ctx.scope, family, revision),
        spec: command.spec,
        tags: command.tags,
        ...(command.registeredBy !== undefined ? { registeredBy: command.registeredBy } : {}),
      };
      // Only a routing bug can send a spec to another family's aggregate.
      return s.can(e)
        ? accept(e)
        : reject("ClientException", `Task definition family '${family}' does not belong here.`);
    }

    case "Deregister": {
      const rev = revisionOf(s, command.revision);
      const e: TaskDefinitionEvent = { type: "TaskDefinitionDeregistered", at: ctx.now, revision: command.revision };
      if (s.can(e)) return accept(e);
      if (!live(rev)) return reject("ClientException", TASK_DEFINITION_NOT_FOUND);
      return reject("ClientException", `The specified task definition is already ${rev.status}.`);
    }

    case "Delete": {
      const rev = revisionOf(s, command.revision);
      const e: TaskDefinitionEvent = { type: "TaskDefinitionDeleteRequested", at: ctx.now, revision: command.revision };
      if (s.can(e)) return accept(e);
      if (!rev) return reject("ClientException", DELETE_NOT_FOUND);
      // Asking again for a deletion already under way changes nothing and is not an error.
      if (rev.status === "DELETE_IN_PROGRESS") return accept();
      return reject("ClientException", DELETE_STILL_ACTIVE);
    }

    case "TagRevision": {
      const rev = revisionOf(s, command.revision);
      if (!live(rev)) return reject("ResourceNotFoundException", TASK_DEFINITION_NOT_FOUND);
      const valid = validateTags(command.tags);
      if (!valid.ok) return valid;
      const tags = mergeTags(rev.tags, valid.tags);
      if (countedTags(tags) > MAX_TAGS)
        return reject("LimitExceededException", `A resource can have at most ${MAX_TAGS} tags.`);
      return retag(s, command.revision, rev.tags, tags, ctx.now);
    }

    case "UntagRevision": {
      const rev = revisionOf(s, command.revision);
      if (!live(rev)) return reject("ResourceNotFoundException", TASK_DEFINITION_NOT_FOUND);
      return retag(s, command.revision, rev.tags, removeTags(rev.tags, command.tagKeys), ctx.now);
    }

    default:
      return unreachable(command);
  }
}

/** A tag change is recorded only when the tags actually change (tagging is idempotent). */
function retag(
  s: TaskDefinitionSnapshot,
  revision: number,
  before: readonly Tag[],
  after: Tag[],
  now: number,
): Decision<TaskDefinitionEvent> {
  if (sameTags(before, after)) return accept();
  const e: TaskDefinitionEvent = { type: "TaskDefinitionTagsChanged", at: now, revision, tags: after };
  return s.can(e) ? accept(e) : reject("ResourceNotFoundException", TASK_DEFINITION_NOT_FOUND);
}
