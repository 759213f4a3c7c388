import { describe, expect, test } from "vitest";
import type { Scope } from "../../events/arns.ts";
import type { Tag } from "../../events/shapes.ts";
import { TaskDefinitionEvent } from "../../events/taskdef.events.ts";
import type { TaskDefinitionSpec } from "../../events/taskdef.shapes.ts";
import {
  DELETE_NOT_FOUND,
  DELETE_STILL_ACTIVE,
  decideTaskDefinition,
  evolveTaskDefinition,
  foldTaskDefinition,
  latestActive,
  revisionOf,
  TASK_DEFINITION_NOT_FOUND,
  type TaskDefinitionCommand,
  type TaskDefinitionSnapshot,
} from "../../machines/taskdef/taskdef.decide.ts";
import { validateRegisterTaskDefinition } from "../../machines/taskdef/taskdef.validate.ts";

const scope: Scope = { region: "us-east-1", account: "123456789012" };
const T0 = 1_700_000_000_000;
const NOW = T0 + 60_000;
const PRINCIPAL = "arn:aws:sts::123456789012:assumed-role/deployer/ci";

function specFor(family: string): TaskDefinitionSpec {
  const r = validateRegisterTaskDefinition({
    family,
    containerDefinitions: [{ name: "app", image: "nginx", memory: 128 }],
  });
  if (!r.ok) throw new Error(r.rejection.message);
  return r.spec;
}
const SPEC = specFor("web");
const arn = (n: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/web:${n}`;

/** Recorded events, as the log would hold them. */
const registered = (revision: number, tags: Tag[] = [], at = T0 + revision): TaskDefinitionEvent => ({
  type: "TaskDefinitionRegistered",
  at,
  revision,
  taskDefinitionArn: arn(revision),
  spec: SPEC,
  tags,
});
const deregistered = (revision: number, at = T0 + 100 + revision): TaskDefinitionEvent => ({
  type: "TaskDefinitionDeregistered",
  at,
  revision,
});
const deleteRequested = (revision: number, at = T0 + 200 + revision): TaskDefinitionEvent => ({
  type: "TaskDefinitionDeleteRequested",
  at,
  revision,
});

/** given(events).when(command).thenEmits(events) | .rejects(code, message) — the decider's specification. */
function given(history: TaskDefinitionEvent[]) {
  const snapshot = history.length > 0 ? foldTaskDefinition(history) : undefined;
  return {
    when(command: TaskDefinitionCommand) {
      const decision = decideTaskDefinition(command, snapshot, { scope, now: NOW });
      return {
        thenEmits: (...events: TaskDefinitionEvent[]) => {
          expect(decision).toEqual({ ok: true, events });
          for (const e of events) expect(TaskDefinitionEvent.parse(e)).toEqual(e);
        },
        rejects: (code: string, message: string) =>
          expect(decision).toEqual({ ok: false, rejection: { code, message } }),
      };
    },
  };
}

describe("RegisterTaskDefinition", () => {
  test("the first registration is revision 1, with the ARN, time, tags and principal", () =>
    given([])
      .when({ type: "Register", spec: SPEC, tags: [{ key: "team", value: "a" }], registeredBy: PRINCIPAL })
      .thenEmits({
        type: "TaskDefinitionRegistered",
        at: NOW,
        revision: 1,
        taskDefinitionArn: arn(1),
        spec: SPEC,
        tags: [{ key: "team", value: "a" }],
        registeredBy: PRINCIPAL,
      }));

  test("the next revision follows the highest one", () =>
    given([registered(1), registered(2)])
      .when({ type: "Register", spec: SPEC, tags: [] })
      .thenEmits({
        type: "TaskDefinitionRegistered",
        at: NOW,
        revision: 3,
        taskDefinitionArn: arn(3),
        spec: SPEC,
        tags: [],
      }));

  test("numbers are never reused, even after deregistration and deletion", () =>
    given([registered(1), registered(2), deregistered(2), deleteRequested(2)])
      .when({ type: "Register", spec: SPEC, tags: [] })
      .thenEmits({
        type: "TaskDefinitionRegistered",
        at: NOW,
        revision: 3,
        taskDefinitionArn: arn(3),
        spec: SPEC,
        tags: [],
      }));

  test("a spec of another family does not belong to this aggregate", () =>
    given([registered(1)])
      .when({ type: "Register", spec: specFor("api"), tags: [] })
      .rejects("ClientException", "Task definition family 'api' does not belong here."));
});

describe("DeregisterTaskDefinition", () => {
  test("an ACTIVE revision becomes INACTIVE", () =>
    given([registered(1)])
      .when({ type: "Deregister", revision: 1 })
      .thenEmits(deregistered(1, NOW)));

  test("an unknown revision does not exist", () =>
    given([registered(1)])
      .when({ type: "Deregister", revision: 2 })
      .rejects("ClientException", TASK_DEFINITION_NOT_FOUND));

  test("an unknown family does not exist", () =>
    given([]).when({ type: "Deregister", revision: 1 }).rejects("ClientException", TASK_DEFINITION_NOT_FOUND));

  test("an INACTIVE revision cannot be deregistered again", () =>
    given([registered(1), deregistered(1)])
      .when({ type: "Deregister", revision: 1 })
      .rejects("ClientException", "The specified task definition is already INACTIVE."));

  test("a revision being deleted does not exist any more", () =>
    given([registered(1), deregistered(1), deleteRequested(1)])
      .when({ type: "Deregister", revision: 1 })
      .rejects("ClientException", TASK_DEFINITION_NOT_FOUND));
});

describe("DeleteTaskDefinitions", () => {
  test("an INACTIVE revision moves to DELETE_IN_PROGRESS", () =>
    given([registered(1), deregistered(1)])
      .when({ type: "Delete", revision: 1 })
      .thenEmits(deleteRequested(1, NOW)));

  test("an ACTIVE revision must be deregistered first", () =>
    given([registered(1)])
      .when({ type: "Delete", revision: 1 })
      .rejects("ClientException", DELETE_STILL_ACTIVE));

  test("an unknown revision does not exist", () =>
    given([registered(1)])
      .when({ type: "Delete", revision: 9 })
      .rejects("ClientException", DELETE_NOT_FOUND));

  test("asking again while deletion is under way changes nothing", () =>
    given([registered(1), deregistered(1), deleteRequested(1)])
      .when({ type: "Delete", revision: 1 })
      .thenEmits());
});

describe("TagResource / UntagResource on a revision", () => {
  const tagged = [registered(1, [{ key: "team", value: "a" }])];
  const changed = (tags: Tag[]): TaskDefinitionEvent => ({
    type: "TaskDefinitionTagsChanged",
    at: NOW,
    revision: 1,
    tags,
  });

  test("tags merge: existing keys are overwritten, others kept", () =>
    given(tagged)
      .when({
        type: "TagRevision",
        revision: 1,
        tags: [
          { key: "team", value: "b" },
          { key: "env", value: "prod" },
        ],
      })
      .thenEmits(
        changed([
          { key: "team", value: "b" },
          { key: "env", value: "prod" },
        ]),
      ));

  test("tagging with what is already there records nothing", () =>
    given(tagged)
      .when({ type: "TagRevision", revision: 1, tags: [{ key: "team", value: "a" }] })
      .thenEmits());

  test("INACTIVE revisions can be tagged", () =>
    given([...tagged, deregistered(1)])
      .when({ type: "TagRevision", revision: 1, tags: [{ key: "x", value: "1" }] })
      .thenEmits(
        changed([
          { key: "team", value: "a" },
          { key: "x", value: "1" },
        ]),
      ));

  test("tags are validated like RegisterTaskDefinition's", () =>
    given(tagged)
      .when({ type: "TagRevision", revision: 1, tags: [{ key: "aws:owner", value: "me" }] })
      .rejects(
        "InvalidParameterException",
        "Tag keys beginning with 'aws:' are reserved for AWS use (key 'aws:owner').",
      ));

  test("more than 50 tags in total is over the limit", () =>
    given(tagged)
      .when({
        type: "TagRevision",
        revision: 1,
        tags: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "v" })),
      })
      .rejects("LimitExceededException", "A resource can have at most 50 tags."));

  test("an unknown revision is not found", () =>
    given(tagged)
      .when({ type: "TagRevision", revision: 2, tags: [{ key: "x", value: "1" }] })
      .rejects("ResourceNotFoundException", TASK_DEFINITION_NOT_FOUND));

  test("a revision being deleted cannot be tagged", () =>
    given([...tagged, deregistered(1), deleteRequested(1)])
      .when({ type: "TagRevision", revision: 1, tags: [{ key: "x", value: "1" }] })
      .rejects("ResourceNotFoundException", TASK_DEFINITION_NOT_FOUND));

  test("untag removes the named keys", () =>
    given(tagged)
      .when({ type: "UntagRevision", revision: 1, tagKeys: ["team"] })
      .thenEmits(changed([])));

  test("untagging keys that are not there records nothing", () =>
    given(tagged)
      .when({ type: "UntagRevision", revision: 1, tagKeys: ["nope"] })
      .thenEmits());

  test("untag on an unknown revision is not found", () =>
    given([])
      .when({ type: "UntagRevision", revision: 1, tagKeys: ["team"] })
      .rejects("ResourceNotFoundException", TASK_DEFINITION_NOT_FOUND));
});

describe("the family machine", () => {
  test("empty → active → inactive → active", () => {
    let s = foldTaskDefinition([]);
    const states = [s.value];
    for (const e of [registered(1), deregistered(1), registered(2)]) {
      s = evolveTaskDefinition(s, e);
      states.push(s.value);
    }
    expect(states).toEqual(["empty", "active", "inactive", "active"]);
  });

  test("the family stays active while any revision is ACTIVE", () => {
    expect(foldTaskDefinition([registered(1), registered(2), deregistered(2)]).value).toBe("active");
    expect(foldTaskDefinition([registered(1), registered(2), deregistered(2), deregistered(1)]).value).toBe("inactive");
  });

  test("revisions carry status and timestamps as DescribeTaskDefinition shows them", () => {
    const s = foldTaskDefinition([registered(1, [], T0), deregistered(1, T0 + 5), deleteRequested(1, T0 + 9)]);
    expect(revisionOf(s, 1)).toEqual({
      ...SPEC,
      taskDefinitionArn: arn(1),
      revision: 1,
      status: "DELETE_IN_PROGRESS",
      registeredAt: T0,
      deregisteredAt: T0 + 5,
      deleteRequestedAt: T0 + 9,
      tags: [],
    });
    expect(revisionOf(s, 2)).toBeUndefined();
    expect(s.context).toMatchObject({ family: "web", latestRevision: 1 });
  });

  test("latestActive is the highest ACTIVE revision", () => {
    expect(latestActive(foldTaskDefinition([registered(1), registered(2)]))?.revision).toBe(2);
    expect(latestActive(foldTaskDefinition([registered(1), registered(2), deregistered(2)]))?.revision).toBe(1);
    expect(latestActive(foldTaskDefinition([registered(1), deregistered(1)]))).toBeUndefined();
    expect(latestActive(foldTaskDefinition([]))).toBeUndefined();
  });

  test("events the machine does not allow leave the snapshot as it was", () => {
    const s = foldTaskDefinition([registered(1)]);
    for (const e of [registered(3), deleteRequested(1), deregistered(7)]) {
      const next = evolveTaskDefinition(s, e);
      expect({ value: next.value, context: next.context }).toEqual({ value: s.value, context: s.context });
    }
  });
});

describe("replay", () => {
  test("folding the recorded events gives the snapshot built live, event by event", () => {
    const script: [number, TaskDefinitionCommand][] = [
      [T0 + 1, { type: "Register", spec: SPEC, tags: [{ key: "team", value: "a" }], registeredBy: PRINCIPAL }],
      [T0 + 2, { type: "Register", spec: SPEC, tags: [] }],
      [T0 + 3, { type: "TagRevision", revision: 2, tags: [{ key: "env", value: "prod" }] }],
      [T0 + 4, { type: "Deregister", revision: 1 }],
      [T0 + 5, { type: "Delete", revision: 1 }],
      [T0 + 6, { type: "Deregister", revision: 2 }],
      [T0 + 7, { type: "UntagRevision", revision: 2, tagKeys: ["env"] }],
      [T0 + 8, { type: "Register", spec: SPEC, tags: [] }],
    ];
    let live: TaskDefinitionSnapshot | undefined;
    const log: unknown[] = [];
    for (const [now, command] of script) {
      const d = decideTaskDefinition(command, live, { scope, now });
      if (!d.ok) throw new Error(d.rejection.message);
      for (const e of d.events) {
        live = evolveTaskDefinition(live ?? foldTaskDefinition([]), e);
        log.push(JSON.parse(JSON.stringify(e)));
      }
    }
    // Read back as the store would: JSON, then the event schema.
    const replayed = foldTaskDefinition(log.map((raw) => TaskDefinitionEvent.parse(raw)));
    expect(log).toHaveLength(script.length);
    expect(replayed.value).toBe("active");
    expect({ value: replayed.value, context: replayed.context }).toEqual({
      value: live?.value,
      context: live?.context,
    });
    expect(JSON.parse(JSON.stringify(replayed.context))).toEqual(replayed.context);
  });
});
