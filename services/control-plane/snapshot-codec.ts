import { type AggregateKind, parseEventSubject } from "../../events/names.ts";
import { restoreAccount } from "../../machines/account/account.decide.ts";
import { restoreCluster } from "../../machines/cluster/cluster.decide.ts";
import { restoreInstance } from "../../machines/instance/instance.decide.ts";
import { restoreService } from "../../machines/service/service.decide.ts";
import { compactContext, restoreTask } from "../../machines/task/task.decide.ts";
import type { TaskContext } from "../../machines/task/task.machine.ts";
import { restoreTaskDefinition } from "../../machines/taskdef/taskdef.decide.ts";
import { type Agg, aggregate, eventIdOf, lastEventOf, type ReadModel } from "./read-model.ts";

/**
 * The read model as JSON text, and back: one document (header, tables, every aggregate but tasks)
 * on the first line, then one line per task. Each aggregate is stored as its state value and
 * context with its log position; indexes are not stored but rebuilt on load (ReadModel.adopt), so
 * a snapshot cannot disagree with them.
 *
 * Tasks are most of it, so they are stored compactly: strings many tasks share (cluster, family,
 * instance, group…) and objects they share (a task definition's containers, reservations) are
 * stored once in tables and referenced by index, and a task's spec keeps only what its context
 * does not already say. On load the shared values are shared again, as the interner had them.
 *
 * A snapshot is read only by the Berth version that wrote it (`app`) in this format; anything
 * else is ignored and the log replayed, which is always correct.
 */

export const SNAPSHOT_FORMAT = 11;

export interface SnapshotHeader {
  format: number;
  app: string;
  /** Every event up to this log sequence is folded into the snapshot. */
  seq: number;
  /** When it was taken, epoch ms. */
  at: number;
}

interface Document extends SnapshotHeader {
  skipped: number;
  strings: string[];
  /** Key lists of objects stored as [shape, ...values] (a task's container records). */
  shapes: string[];
  /** The order of a task context's fields in the task lines that follow the document. */
  taskFields: string[];
  objects: unknown[];
  specs: Record<string, unknown>[];
  aggregates: Record<Exclude<AggregateKind, "task">, Row[]>;
  /** [instance subject, Usage.changes] of every instance that counted any. */
  instanceChanges: [string, number][];
}

/** [subject, region, seq, version, lastEventId, value, context] */
type Row = [string, string, number, number, string, unknown, unknown];

/** Task context fields whose string values repeat across tasks. */
const SHARED_STRINGS = new Set([
  "containerInstanceArn",
  "instanceId",
  "group",
  "startedBy",
  "capacityProviderName",
  "availabilityZone",
  "platformVersion",
  "desiredStatus",
  "healthStatus",
  "stopCode",
  "stoppedReason",
]);
/** Container record fields whose string values repeat across tasks. */
const CONTAINER_STRINGS = new Set(["name", "image", "lastStatus", "healthStatus", "reason"]);
/** Task context fields whose objects are often the same object (interned when folded). */
const SHARED_OBJECTS = new Set(["overrides", "tags", "reservation", "attachments"]);

/** Every field of a task context, in the fixed order compactContext gives them. */
const BLANK = compactContext({} as TaskContext);
const TASK_FIELDS = Object.keys(BLANK);
/** A task line: [subject, seq, version, lastEventId, value, ...context fields in TASK_FIELDS order]. */
const TASK_ROW_HEAD = 5;
const TASK_ID_FIELD = TASK_FIELDS.indexOf("taskId");

/** Each kind's aggregate from (state value, context), as its fold would have left it. */
const RESTORE: Record<AggregateKind, (value: unknown, context: never) => unknown> = {
  cluster: restoreCluster,
  taskdef: restoreTaskDefinition,
  task: restoreTask,
  instance: restoreInstance,
  service: restoreService,
  account: restoreAccount,
};

/** Mark of a lastEventId stored without its subject prefix (`<subject>:<rest>` → `~<rest>`). */
const SAME_SUBJECT = "~";

export function encodeSnapshot(model: ReadModel, header: SnapshotHeader): string {
  const strings = new Table<string>();
  const objects = new Table<unknown>();
  const specs = new Map<string, number>();
  const specList: Record<string, unknown>[] = [];
  const shapes = new Table<string>();
  const tasks: string[] = [];
  for (const agg of model.tasks.values()) {
    const ctx = agg.snapshot.context as unknown as Record<string, unknown>;
    const c: unknown[] = [];
    const taskId = ctx.taskId as string;
    for (const key of TASK_FIELDS) {
      const v = ctx[key];
      if (v === undefined) c.push(null);
      else if (key === "containers")
        c.push((v as Record<string, unknown>[]).map((r) => positional(r, shapes, strings)));
      else if (key === "spec") {
        const spec = v as Record<string, unknown>;
        const shape: Record<string, unknown> = {
          ...spec,
          containers: objects.id(spec.containers),
          volumes: objects.id(spec.volumes),
        };
        const text = JSON.stringify(shape);
        let i = specs.get(text);
        if (i === undefined) {
          i = specList.length;
          specList.push(shape);
          specs.set(text, i);
        }
        c.push(i);
      } else if (SHARED_STRINGS.has(key) && typeof v === "string") c.push(strings.id(v));
      else if (SHARED_OBJECTS.has(key)) c.push(objects.id(v, smallObjectKey(v)));
      else c.push(v);
    }
    const id = eventIdOf(agg);
    const eid = id.startsWith(`${agg.subject}:`) ? `${SAME_SUBJECT}${id.slice(agg.subject.length + 1)}` : id;
    const subject = agg.subject.endsWith(taskId) ? strings.id(agg.subject.slice(0, -taskId.length)) : agg.subject;
    tasks.push(JSON.stringify([subject, agg.seq, agg.version, eid, agg.snapshot.value, ...c]));
  }
  const rows = (map: ReadonlyMap<string, Agg<{ value: unknown; context: unknown }>>): Row[] =>
    [...map.values()].map((a) => [
      a.subject,
      a.region,
      a.seq,
      a.version,
      eventIdOf(a),
      a.snapshot.value,
      a.snapshot.context,
    ]);
  const doc: Document = {
    ...header,
    skipped: model.skipped,
    strings: strings.values,
    objects: objects.values,
    shapes: shapes.values,
    taskFields: TASK_FIELDS,
    specs: specList,
    aggregates: {
      cluster: rows(model.clusters),
      taskdef: rows(model.taskDefinitions),
      instance: rows(model.instances),
      service: rows(model.services),
      account: rows(model.accounts),
    },
    instanceChanges: [...model.usage].filter(([, u]) => u.changes > 0).map(([subject, u]) => [subject, u.changes]),
  };
  return `${JSON.stringify(doc)}\n${tasks.join("\n")}`;
}

/** The header only (cheap checks before a full decode). */
export function headerOf(doc: {
  format?: unknown;
  app?: unknown;
  seq?: unknown;
  at?: unknown;
}): SnapshotHeader | undefined {
  if (
    typeof doc.format !== "number" ||
    typeof doc.app !== "string" ||
    typeof doc.seq !== "number" ||
    typeof doc.at !== "number"
  )
    return undefined;
  return { format: doc.format, app: doc.app, seq: doc.seq, at: doc.at };
}

/**
 * Reads a snapshot's text into aggregates; `adopt` then puts them into a fresh read model. Throws
 * on a document it cannot read, before anything reaches the model.
 */
export function decodeSnapshot(text: string): DecodedSnapshot {
  const decoder = new SnapshotDecoder();
  decoder.push(text);
  return decoder.end();
}

export interface DecodedSnapshot {
  header: SnapshotHeader;
  adopt: (into: ReadModel) => void;
}

/**
 * decodeSnapshot, fed piece by piece as the text arrives (snapshots.ts inflates it while this
 * decodes what came before): complete lines are decoded at once, the last partial one waits.
 */
export class SnapshotDecoder {
  /** The text after the last complete line. */
  private partial = "";
  private doc: Document | undefined;
  private readonly tasks: Agg<unknown>[] = [];
  /** The cluster token of each task's subject, for ReadModel.adopt. */
  private readonly clusters: string[] = [];
  private tables: TaskTables | undefined;

  push(text: string): void {
    const buffer = this.partial.length > 0 ? this.partial + text : text;
    let start = 0;
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n", start)) {
      this.line(buffer.slice(start, end));
      start = end + 1;
    }
    this.partial = buffer.slice(start);
  }

  end(): DecodedSnapshot {
    if (this.partial.length > 0 || !this.doc) this.line(this.partial);
    this.partial = "";
    const doc = this.doc as Document;
    const others: [AggregateKind, Agg<unknown>][] = [];
    for (const kind of ["account", "cluster", "taskdef", "instance", "service"] as const) {
      for (const [subject, region, seq, version, lastEventId, value, context] of doc.aggregates[kind] ?? []) {
        const lastEvent = lastEventOf(subject, version, lastEventId);
        others.push([
          kind,
          aggregate(subject, region, RESTORE[kind](value, context as never), seq, version, lastEvent),
        ]);
      }
    }
    const { tasks, clusters } = this;
    const { instanceChanges } = doc;
    if (!Array.isArray(instanceChanges)) throw new Error("snapshot has no instanceChanges");
    return {
      header: headerOf(doc) as SnapshotHeader,
      adopt: (into) => {
        for (const [kind, agg] of others) into.adopt(kind, agg);
        for (let i = 0; i < tasks.length; i++) into.adopt("task", tasks[i] as Agg<unknown>, clusters[i]);
        for (const [instance, changes] of instanceChanges) into.adoptInstanceChanges(instance, changes);
        into.skipped = doc.skipped ?? 0;
      },
    };
  }

  /** The document (the first line), then one task per line. */
  private line(text: string) {
    if (!this.doc) {
      const doc = JSON.parse(text) as Document;
      const header = headerOf(doc);
      if (!header || header.format !== SNAPSHOT_FORMAT) throw new Error("not a read-model snapshot of this format");
      this.doc = doc;
      this.tables = {
        strings: doc.strings,
        objects: doc.objects,
        specs: doc.specs.map((s) => ({
          ...s,
          containers: doc.objects[s.containers as number],
          volumes: doc.objects[s.volumes as number],
        })),
        fields: doc.taskFields,
        kinds: doc.taskFields.map(fieldKind),
        shapes: doc.shapes.map(shapeOf),
        heads: new SubjectHeads(doc.strings),
      };
      return;
    }
    // Parsed and turned into its context at once: the row dies young.
    const row = JSON.parse(text) as unknown[];
    const { strings, objects, specs, fields, kinds, shapes, heads } = this.tables as TaskTables;
    const [head, seq, version, eid, value] = row as [string | number, number, number, string, string];
    const taskId = row[TASK_ROW_HEAD + TASK_ID_FIELD] as string;
    const { subject, region, cluster } = heads.of(head, taskId);
    // Filled field by field into a copy of an empty context of the fixed shape (compactContext).
    const ctx = { ...BLANK } as unknown as Record<string, unknown>;
    for (let k = 0; k < fields.length; k++) {
      const v = row[k + TASK_ROW_HEAD];
      if (v === null || v === undefined) continue;
      const key = fields[k] as string;
      switch (kinds[k]) {
        case "containers":
          ctx.containers = (v as unknown[][]).map((r) => fromPositional(r, shapes, strings));
          break;
        case "spec":
          ctx.spec = specs[v as number]; // shared, like the specs of folded tasks
          break;
        case "sharedString":
          ctx[key] = typeof v === "number" ? strings[v] : v;
          break;
        case "sharedObject":
          ctx[key] = objects[v as number];
          break;
        default:
          ctx[key] = v;
      }
    }
    const context = ctx as unknown as TaskContext;
    const lastEvent = lastEventOf(
      subject,
      version,
      eid.startsWith(SAME_SUBJECT) ? `${subject}:${eid.slice(SAME_SUBJECT.length)}` : eid,
    );
    this.tasks.push(aggregate(subject, region, restoreTask(value, context), seq, version, lastEvent));
    this.clusters.push(cluster);
  }
}

/** What decoding a task line needs from the document. */
interface TaskTables {
  strings: string[];
  objects: unknown[];
  specs: Record<string, unknown>[];
  fields: string[];
  kinds: FieldKind[];
  shapes: Shape[];
  heads: SubjectHeads;
}

/** How a task field is stored (see encodeSnapshot). */
type FieldKind = "plain" | "containers" | "spec" | "sharedString" | "sharedObject";

function fieldKind(key: string): FieldKind {
  if (key === "containers" || key === "spec") return key;
  if (SHARED_STRINGS.has(key)) return "sharedString";
  if (SHARED_OBJECTS.has(key)) return "sharedObject";
  return "plain";
}

/**
 * A task's subject, region and cluster token from its row's head: most heads are the id of the
 * subject's part before the task id (the same for every task of the cluster), parsed once.
 */
class SubjectHeads {
  private readonly parsed = new Map<number, { region: string; cluster: string }>();

  constructor(private readonly strings: string[]) {}

  of(head: string | number, taskId: string): { subject: string; region: string; cluster: string } {
    if (typeof head !== "number") return { subject: head, ...this.parse(head) };
    const subject = `${this.strings[head]}${taskId}`;
    let known = this.parsed.get(head);
    if (!known) {
      known = this.parse(subject);
      this.parsed.set(head, known);
    }
    return { subject, region: known.region, cluster: known.cluster };
  }

  private parse(subject: string): { region: string; cluster: string } {
    const p = parseEventSubject(subject);
    if (p?.kind !== "task") throw new Error(`snapshot row ${subject} is not a task`);
    return { region: p.region, cluster: p.ids[0] as string };
  }
}

/** Values stored once and referred to by index; by identity, or by a key when one is given. */
class Table<T> {
  readonly values: T[] = [];
  private readonly ids = new Map<unknown, number>();

  id(v: T, key: unknown = v): number {
    let i = this.ids.get(key);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(v);
      this.ids.set(key, i);
    }
    return i;
  }
}

/** Small objects (empty tag lists, `{}` overrides) are shared by content, not only by identity. */
function smallObjectKey(v: unknown): unknown {
  if (Array.isArray(v) && v.length === 0) return "[]";
  if (v !== null && typeof v === "object" && Object.keys(v).length === 0) return "{}";
  return v;
}

/**
 * A container record as [shape, ...values]: its key list is stored once in `shapes`, and the
 * strings its tasks share (name, image, statuses) once in `strings`.
 */
function positional(o: Record<string, unknown>, shapes: Table<string>, strings: Table<string>): unknown[] {
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  const row: unknown[] = [shapes.id(keys.join(","))];
  for (const k of keys) {
    const v = o[k];
    row.push(CONTAINER_STRINGS.has(k) && typeof v === "string" ? strings.id(v) : v);
  }
  return row;
}

/** A container record's shape: its keys, and which of them hold shared strings. */
interface Shape {
  keys: string[];
  shared: boolean[];
}

function shapeOf(keyList: string): Shape {
  const keys = keyList.split(",");
  return { keys, shared: keys.map((k) => CONTAINER_STRINGS.has(k)) };
}

function fromPositional(row: unknown[], shapes: Shape[], strings: string[]): Record<string, unknown> {
  const { keys, shared } = shapes[row[0] as number] as Shape;
  const o: Record<string, unknown> = {};
  for (let k = 0; k < keys.length; k++) {
    const v = row[k + 1];
    o[keys[k] as string] = shared[k] && typeof v === "number" ? strings[v] : v;
  }
  return o;
}
