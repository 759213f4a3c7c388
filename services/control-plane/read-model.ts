import type { Logger } from "pino";
import type { AccountEvent } from "../../events/account.events.ts";
import type { ClusterEvent } from "../../events/cluster.events.ts";
import type { Envelope } from "../../events/envelope.ts";
import type { InstanceEvent } from "../../events/instance.events.ts";
import { type AggregateKind, EVENT_SUBJECT_PREFIX, parseEventSubject, subjects } from "../../events/names.ts";
import type { ServiceEvent } from "../../events/service.events.ts";
import type { TaskEvent } from "../../events/task.events.ts";
import type { TaskDefinitionEvent } from "../../events/taskdef.events.ts";
import { type AccountSnapshot, evolveAccount, initialAccount } from "../../machines/account/account.decide.ts";
import { type ClusterSnapshot, evolveCluster, initialCluster } from "../../machines/cluster/cluster.decide.ts";
import { evolveInstance, type InstanceSnapshot, initialInstance } from "../../machines/instance/instance.decide.ts";
import { evolveService, initialService, type ServiceSnapshot } from "../../machines/service/service.decide.ts";
import { evolveTask, initialTask, type TaskSnapshot } from "../../machines/task/task.decide.ts";
import type { TaskContext } from "../../machines/task/task.machine.ts";
import { taskArnPrefix } from "../../machines/task/task.spec.ts";
import {
  evolveTaskDefinition,
  foldTaskDefinition,
  type TaskDefinitionSnapshot,
} from "../../machines/taskdef/taskdef.decide.ts";
import { InstanceViewIndex } from "./instance-views.ts";
import { Interner } from "./intern.ts";

/** One aggregate as the read model holds it: its snapshot and its position in the log. */
export interface Agg<S> {
  subject: string;
  region: string;
  snapshot: S;
  /** Stream sequence of the aggregate's last event (the expected sequence of the next append). */
  seq: number;
  /** Number of events in the aggregate. */
  version: number;
  /**
   * Envelope id of the aggregate's last event (causation for what follows from it); read it with
   * eventIdOf(). An id of the usual form `<subject>:<version>:<14 hex digits>` (envelope.ts) whose
   * subject and version are the aggregate's own is kept as the number its digits spell: 16 bytes
   * instead of a ~100-byte string per aggregate.
   */
  lastEvent: number | string;
  /**
   * This state's JSON as the API sends it (a task's DescribeTasks rendering, render.ts), made on
   * its first read. An Agg is replaced on every event, so what it keeps is never stale; kept here
   * rather than in a weak map beside it, whose lookup cost more than the rest of finding a task.
   */
  rendered: Buffer | undefined;
}

/**
 * A new Agg. Every one is made here, so all have one shape and the readers' property loads stay
 * monomorphic.
 */
export function aggregate<S>(
  subject: string,
  region: string,
  snapshot: S,
  seq: number,
  version: number,
  lastEvent: number | string,
): Agg<S> {
  return { subject, region, snapshot, seq, version, lastEvent, rendered: undefined };
}

/** The envelope id of an aggregate's last event. */
export function eventIdOf(agg: Pick<Agg<unknown>, "subject" | "version" | "lastEvent">): string {
  const e = agg.lastEvent;
  return typeof e === "string" ? e : `${agg.subject}:${agg.version}:${e.toString(16).padStart(HASH_DIGITS, "0")}`;
}

const HASH_DIGITS = 14;

/**
 * What Agg.lastEvent holds for the id `id` of the aggregate's event number `version`: the number
 * when `id` is `<subject>:<version>:<14 hex digits>`, read in place (no slices, no regex).
 */
export function lastEventOf(subject: string, version: number, id: string): number | string {
  const tail = id.length - HASH_DIGITS;
  if (tail <= subject.length + 2 || id.charCodeAt(tail - 1) !== COLON || id.charCodeAt(subject.length) !== COLON)
    return id;
  // The version: decimal digits, no leading zero, equal to `version`.
  const from = subject.length + 1;
  if (id.charCodeAt(from) === ZERO && tail - 1 - from > 1) return id;
  let v = 0;
  for (let i = from; i < tail - 1; i++) {
    const d = id.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return id;
    v = v * 10 + d;
  }
  if (v !== version) return id;
  let n = 0;
  for (let i = tail; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const d = c >= ZERO && c <= ZERO + 9 ? c - ZERO : c >= LOWER_A && c <= LOWER_A + 5 ? c - LOWER_A + 10 : -1;
    if (d < 0) return id;
    n = n * 16 + d;
  }
  // cyrb53's are 53 bits; checked last, as the cheapest checks fail first on ids of other forms.
  return Number.isSafeInteger(n) && hasPrefix(id, subject) ? n : id;
}

const ZERO = 48;
const LOWER_A = 97;
const COLON = 58;

/**
 * `s.startsWith(prefix)`, by comparing a slice: V8 compares two strings' characters in bulk, where
 * startsWith looks at them one by one (60 against 210 ns for a 64-character prefix on Node 20).
 */
const hasPrefix = (s: string, prefix: string) => s.slice(0, prefix.length) === prefix;

/** An effect a machine asked for when an event was folded; executed by the reactor, once. */
export interface Intent {
  kind: "task";
  name: string;
  subject: string;
  seq: number;
  eventId: string;
}

/** Resources a placed task holds on its instance until it stops. */
export interface Usage {
  cpu: number;
  memory: number;
  /** Host ports in use (port → tasks holding it); NO_PORTS until a task holds one. */
  ports: ReadonlyMap<number, number>;
  portsUdp: ReadonlyMap<number, number>;
  tasks: number;
  /** Live tasks per task group ("service:web", "family:api"). */
  groups: Map<string, number>;
  /** Live tasks whose lastStatus is RUNNING (ECS's runningTasksCount). */
  running: number;
  /**
   * Tasks placed on the instance plus tasks released there (stopped), ever: ECS counts each as a
   * change of the instance (its remaining resources moved), in its `version` (instanceVersion).
   */
  changes: number;
}

/**
 * The port map of an instance no task holds a host port on: most tasks map none, and an empty
 * Map per instance and protocol came to ~5 MB at 10,000 instances. Never written: reserve()
 * gives the instance a map of its own on its first port.
 */
const NO_PORTS: ReadonlyMap<number, number> = new Map();

const KNOWN_KINDS = new Set(["cluster", "taskdef", "task", "instance", "service", "account"]);

/** Service tasks carry the group `service:<name>` (ECS's convention). */
export const SERVICE_GROUP_PREFIX = "service:";

/**
 * Every aggregate of every region, folded from the log in order, plus the indexes the API and the
 * placement need. Only the log follower writes it (single writer); everything else reads.
 *
 * Policy for messages that cannot be folded (not JSON, not a Berth envelope, an event type this
 * version does not know): log a warning with the sequence, count it in `skipped`, and go on — one
 * bad message never stops the control plane, and it stays in the log for a later version to read.
 */
export class ReadModel {
  readonly clusters = new Map<string, Agg<ClusterSnapshot>>();
  readonly taskDefinitions = new Map<string, Agg<TaskDefinitionSnapshot>>();
  readonly tasks = new Map<string, Agg<TaskSnapshot>>();
  readonly instances = new Map<string, Agg<InstanceSnapshot>>();
  readonly services = new Map<string, Agg<ServiceSnapshot>>();
  /** Account settings and capacity providers, one aggregate per region (subjects.account). */
  readonly accounts = new Map<string, Agg<AccountSnapshot>>();

  /** cluster subject → task id → task subject (every task ever created in it, STOPPED included). */
  readonly tasksByCluster = new Map<string, Map<string, string>>();
  /**
   * cluster subject → task subject → task id, for the tasks whose desiredStatus is RUNNING, in
   * the order they were created: ListTasks' default answer read from one place instead of from
   * every task of the cluster. Their ARNs are the cluster's prefix (taskArnPrefixes) and the id.
   */
  readonly desiredRunningByCluster = new Map<string, Map<string, string>>();
  /** cluster subject → the prefix of its tasks' ARNs (`…:task/<cluster>/`, taskArnPrefix), from its first task. */
  readonly taskArnPrefixes = new Map<string, string>();
  /**
   * Cluster subjects holding a task whose ARN is not its cluster's prefix and its id, or has a
   * character JSON escapes. Berth makes no such ARN, so listings put the prefix and the ids
   * between quotes as they are; a cluster named here has its listings built from each task's
   * ARN and serialized character by character instead.
   */
  readonly clustersWithIrregularArns = new Set<string>();
  /** cluster subject → service subjects. */
  readonly servicesByCluster = new Map<string, Set<string>>();
  /** service subject → task subjects of the service (STOPPED included). */
  readonly tasksByService = new Map<string, Set<string>>();
  /** cluster subject → instance subjects. */
  readonly instancesByCluster = new Map<string, Set<string>>();
  /** instance subject → task subjects placed on it and not yet STOPPED. */
  readonly liveTasksByInstance = new Map<string, Set<string>>();
  /** instance subject → what its live tasks hold. */
  readonly usage = new Map<string, Usage>();
  /** `${clusterSubject}|${clientToken}` → task subjects created by that RunTask call. */
  readonly clientTokens = new Map<string, string[]>();
  /** Placement's view of each instance, kept current as instances and their tasks change. */
  readonly views = new InstanceViewIndex(this);

  skipped = 0;
  /** The envelope apply() folded last (undefined when it skipped the message), for who reacts to it in the same turn. */
  lastEnvelope: Envelope | undefined;
  private readonly interner = new Interner();
  private readonly subjectMemo = new SubjectMemo();
  private readonly subjectParts = new SubjectParts(this.interner, (region, cluster) => this.clusterSubject(region, cluster));

  /** Envelope id of the last event folded for an aggregate subject. */
  lastEventId(subject: string): string | undefined {
    const agg =
      this.tasks.get(subject) ??
      this.services.get(subject) ??
      this.instances.get(subject) ??
      this.clusters.get(subject);
    return agg ? eventIdOf(agg) : undefined;
  }

  constructor(private readonly log: Logger) {}

  /** Folds one stored message; returns the intents its event produced. */
  apply(seq: number, subject: string, data: Uint8Array): Intent[] {
    this.lastEnvelope = undefined;
    const parts = this.subjectParts;
    const parsed = parts.read(subject);
    let env: Envelope;
    try {
      env = JSON.parse(utf8.decode(data)) as Envelope;
    } catch {
      return this.skip(seq, subject, "not JSON");
    }
    if (!parsed || !KNOWN_KINDS.has(parts.kind) || typeof env?.data?.type !== "string")
      return this.skip(seq, subject, "not a known Berth event");
    this.lastEnvelope = env;
    const region = parts.region;
    const event: unknown = env.data;
    switch (parts.kind) {
      case "cluster": {
        const prev = this.clusters.get(subject);
        this.put(
          this.clusters,
          prev,
          subject,
          region,
          seq,
          env,
          evolveCluster(prev?.snapshot ?? initialCluster(), event as ClusterEvent),
        );
        return [];
      }
      case "taskdef": {
        const prev = this.taskDefinitions.get(subject);
        const next = evolveTaskDefinition(prev?.snapshot ?? foldTaskDefinition([]), event as TaskDefinitionEvent);
        this.put(this.taskDefinitions, prev, subject, region, seq, env, next);
        return [];
      }
      case "instance": {
        const clusterSubject = parts.clusterSubject;
        index(this.instancesByCluster, clusterSubject, subject);
        const prev = this.instances.get(subject);
        this.interner.instanceEvent(event as InstanceEvent);
        this.put(
          this.instances,
          prev,
          subject,
          region,
          seq,
          env,
          evolveInstance(prev?.snapshot ?? initialInstance(), event as InstanceEvent),
        );
        this.views.touch(clusterSubject, subject);
        return [];
      }
      case "service": {
        index(this.servicesByCluster, parts.clusterSubject, subject);
        const prev = this.services.get(subject);
        this.put(
          this.services,
          prev,
          subject,
          region,
          seq,
          env,
          evolveService(prev?.snapshot ?? initialService(), event as ServiceEvent),
        );
        return [];
      }
      case "task":
        return this.applyTask(region, parts.clusterSubject, subject, seq, env);
      case "account": {
        const prev = this.accounts.get(subject);
        this.put(
          this.accounts,
          prev,
          subject,
          region,
          seq,
          env,
          evolveAccount(prev?.snapshot ?? initialAccount(), event as AccountEvent),
        );
        return [];
      }
      default:
        return this.skip(seq, subject, "unknown aggregate kind");
    }
  }

  private applyTask(region: string, clusterSubject: string, subject: string, seq: number, env: Envelope): Intent[] {
    const event = env.data as unknown as TaskEvent;
    this.interner.taskEvent(event);
    const before = this.tasks.get(subject);
    const { snapshot, intents } = evolveTask(before?.snapshot ?? initialTask(), event);
    const after = this.put(this.tasks, before, subject, region, seq, env, snapshot);
    const ctx = after.snapshot.context;
    if (event.type === "TaskCreated") {
      indexUnder(this.tasksByCluster, clusterSubject, ctx.taskId, subject);
      this.noteArn(clusterSubject, ctx);
      if (event.group.startsWith(SERVICE_GROUP_PREFIX))
        index(
          this.tasksByService,
          subjects.service(region, ctx.spec.cluster, event.group.slice(SERVICE_GROUP_PREFIX.length)),
          subject,
        );
      if (event.clientToken) this.rememberToken(clusterSubject, event.clientToken, subject);
      if (ctx.instanceId) {
        const inst = this.instanceSubject(region, ctx.spec.cluster, ctx.instanceId);
        index(this.liveTasksByInstance, inst, subject);
        this.reserve(inst, ctx.reservation, ctx.group, +1);
        this.usageOf(inst).changes += 1;
        this.views.touch(clusterSubject, inst);
      }
    }
    const wanted = ctx.desiredStatus === "RUNNING";
    if (wanted !== (before?.snapshot.context.desiredStatus === "RUNNING")) {
      if (wanted) indexUnder(this.desiredRunningByCluster, clusterSubject, subject, ctx.taskId);
      else this.desiredRunningByCluster.get(clusterSubject)?.delete(subject);
    }
    const stoppedNow = before?.snapshot.value !== "STOPPED" && after.snapshot.value === "STOPPED";
    const runningBefore = before?.snapshot.value === "RUNNING";
    const runningAfter = after.snapshot.value === "RUNNING";
    if ((stoppedNow || runningBefore !== runningAfter) && ctx.instanceId) {
      const inst = this.instanceSubject(region, ctx.spec.cluster, ctx.instanceId);
      if (stoppedNow) {
        this.liveTasksByInstance.get(inst)?.delete(subject);
        this.reserve(inst, ctx.reservation, ctx.group, -1);
        this.usageOf(inst).changes += 1;
      }
      if (runningBefore !== runningAfter) this.usageOf(inst).running += runningAfter ? 1 : -1;
      this.views.touch(clusterSubject, inst);
    }
    return intents.length === 0 ? [] : intents.map((name) => ({ kind: "task", name, subject, seq, eventId: env.id }));
  }

  /**
   * subjects.cluster / subjects.instance, remembered: most events of a task name its cluster and
   * instance again, and building a subject checks every token.
   */
  private clusterSubject(region: string, cluster: string): string {
    return (
      this.subjectMemo.get(region, cluster, "") ??
      this.subjectMemo.set(region, cluster, "", subjects.cluster(region, cluster))
    );
  }

  /** subjects.instance, remembered (most tasks name an instance already seen). */
  instanceSubject(region: string, cluster: string, instanceId: string): string {
    return (
      this.subjectMemo.get(region, cluster, instanceId) ??
      this.subjectMemo.set(region, cluster, instanceId, subjects.instance(region, cluster, instanceId))
    );
  }

  private noteArn(clusterSubject: string, ctx: TaskContext) {
    const prefix = taskArnPrefix(ctx.spec.clusterArn);
    const known = this.taskArnPrefixes.get(clusterSubject);
    if (known === undefined) this.taskArnPrefixes.set(clusterSubject, prefix);
    const regular =
      ctx.arn === undefined &&
      (known === undefined ? JSON_PLAIN.test(prefix) : known === prefix) &&
      JSON_PLAIN.test(ctx.taskId);
    if (!regular) this.clustersWithIrregularArns.add(clusterSubject);
  }

  private rememberToken(clusterSubject: string, clientToken: string, subject: string) {
    // RunTask stores `<token>#<fingerprint of the parameters>`; callers look up by the token alone.
    const hash = clientToken.lastIndexOf("#");
    const key = `${clusterSubject}|${hash < 0 ? clientToken : clientToken.slice(0, hash)}`;
    this.clientTokens.set(key, [...(this.clientTokens.get(key) ?? []), subject]);
  }

  /**
   * Takes an aggregate restored from a snapshot (snapshots.ts) into a fresh read model, with the
   * indexes its events built when they were folded: the same steps as apply(), from the state
   * instead of the events. (An integration test holds a restored model equal to a replayed one.)
   * `cluster` is the cluster token of the aggregate's subject when the caller already knows it
   * (the snapshot decoder does, for every task), which spares parsing the subject.
   */
  adopt(kind: AggregateKind, agg: Agg<unknown>, cluster?: string): void {
    let clusterToken = cluster;
    if (clusterToken === undefined) {
      const parsed = parseEventSubject(agg.subject);
      if (!parsed) return;
      if (parsed.kind !== kind) throw new Error(`snapshot row ${agg.subject} is not a ${kind}`);
      clusterToken = parsed.ids[0] as string;
    }
    const region = agg.region;
    switch (kind) {
      case "cluster":
        this.clusters.set(agg.subject, agg as Agg<ClusterSnapshot>);
        return;
      case "taskdef":
        this.taskDefinitions.set(agg.subject, agg as Agg<TaskDefinitionSnapshot>);
        return;
      case "account":
        this.accounts.set(agg.subject, agg as Agg<AccountSnapshot>);
        return;
      case "instance":
        index(this.instancesByCluster, this.clusterSubject(region, clusterToken), agg.subject);
        this.interner.instanceContext((agg as Agg<InstanceSnapshot>).snapshot.context);
        this.instances.set(agg.subject, agg as Agg<InstanceSnapshot>);
        return;
      case "service":
        index(this.servicesByCluster, this.clusterSubject(region, clusterToken), agg.subject);
        this.services.set(agg.subject, agg as Agg<ServiceSnapshot>);
        return;
      case "task": {
        const task = agg as Agg<TaskSnapshot>;
        const subject = task.subject;
        const ctx = task.snapshot.context;
        const clusterSubject = this.clusterSubject(region, clusterToken);
        this.tasks.set(subject, task);
        indexUnder(this.tasksByCluster, clusterSubject, ctx.taskId, subject);
        this.noteArn(clusterSubject, ctx);
        if (ctx.desiredStatus === "RUNNING") indexUnder(this.desiredRunningByCluster, clusterSubject, subject, ctx.taskId);
        if (ctx.group.startsWith(SERVICE_GROUP_PREFIX))
          index(
            this.tasksByService,
            subjects.service(region, ctx.spec.cluster, ctx.group.slice(SERVICE_GROUP_PREFIX.length)),
            subject,
          );
        if (ctx.clientToken) this.rememberToken(clusterSubject, ctx.clientToken, subject);
        if (!ctx.instanceId) return;
        const inst = this.instanceSubject(region, ctx.spec.cluster, ctx.instanceId);
        if (task.snapshot.value === "STOPPED") {
          // Placed, then released when it stopped: what the fold leaves behind is the instance's
          // (maybe empty) entries, with nothing of this task in them.
          if (!this.liveTasksByInstance.has(inst)) this.liveTasksByInstance.set(inst, new Set());
          this.usageOf(inst);
          return;
        }
        index(this.liveTasksByInstance, inst, subject);
        this.reserve(inst, ctx.reservation, ctx.group, +1);
        if (task.snapshot.value === "RUNNING") this.usageOf(inst).running += 1;
        return;
      }
      default:
        throw new Error(`unknown aggregate kind ${String(kind)}`);
    }
  }

  /**
   * From a snapshot, after its tasks are adopted: how many task changes an instance has counted
   * (Usage.changes). Adopting the tasks cannot tell: a task placed and stopped there counted two.
   */
  adoptInstanceChanges(instance: string, changes: number): void {
    this.usageOf(instance).changes = changes;
  }

  private usageOf(instance: string): Usage {
    let u = this.usage.get(instance);
    if (!u) {
      u = {
        cpu: 0,
        memory: 0,
        ports: NO_PORTS,
        portsUdp: NO_PORTS,
        tasks: 0,
        groups: new Map(),
        running: 0,
        changes: 0,
      };
      this.usage.set(instance, u);
    }
    return u;
  }

  private reserve(
    instance: string,
    r: { cpu: number; memory: number; ports: number[]; portsUdp: number[] },
    group: string,
    sign: 1 | -1,
  ) {
    const u = this.usageOf(instance);
    u.cpu += sign * r.cpu;
    u.memory += sign * r.memory;
    u.tasks += sign;
    u.ports = countPorts(u.ports, r.ports, sign);
    u.portsUdp = countPorts(u.portsUdp, r.portsUdp, sign);
    bump(u.groups, group, sign);
  }

  /** The aggregate after one more event: a new Agg (readers may hold the previous one). */
  private put<S>(
    map: Map<string, Agg<S>>,
    prev: Agg<S> | undefined,
    subject: string,
    region: string,
    seq: number,
    env: Envelope,
    snapshot: S,
  ): Agg<S> {
    // The key's own string: each message brings a new copy of the subject, and keeping the
    // latest would hold a second one per aggregate beside the map's key.
    const key = prev?.subject ?? subject;
    const version = (prev?.version ?? 0) + 1;
    const next = aggregate(key, region, snapshot, seq, version, lastEventOf(key, version, env.id));
    map.set(subject, next);
    return next;
  }

  private skip(seq: number, subject: string, why: string): Intent[] {
    this.skipped++;
    this.log.warn({ seq, subject, why }, "event skipped by the read model");
    return [];
  }
}

const utf8 = new TextDecoder();

/** Subjects by (region, cluster, instance id); "" for a cluster's own subject. */
class SubjectMemo {
  private readonly byRegion = new Map<string, Map<string, Map<string, string>>>();

  get(region: string, cluster: string, instanceId: string): string | undefined {
    return this.byRegion.get(region)?.get(cluster)?.get(instanceId);
  }

  set(region: string, cluster: string, instanceId: string, subject: string): string {
    let clusters = this.byRegion.get(region);
    if (!clusters) {
      clusters = new Map();
      this.byRegion.set(region, clusters);
    }
    let bySubject = clusters.get(cluster);
    if (!bySubject) {
      bySubject = new Map();
      clusters.set(cluster, bySubject);
    }
    bySubject.set(instanceId, subject);
    return subject;
  }
}

/**
 * What apply() reads from an event subject, `berth.evt.<region>.<kind>.<id>[.<id>…]`: the region
 * (interned), the kind and, for kinds under a cluster (instance, service, task), the subject of
 * the cluster their first id names. These depend on the tokens up to the first id only, and
 * consecutive events mostly share them (one cluster's tasks): so that prefix of the last subject
 * with more than one id is kept, and a subject that starts with it is read by one comparison
 * instead of slicing, splitting and three map lookups.
 */
export class SubjectParts {
  region = "";
  kind = "";
  /** For kinds under a cluster; "" for the others. */
  clusterSubject = "";
  /** `berth.evt.<region>.<kind>.<first id>.` of the last subject with more than one id; "" if none. */
  private prefix = "";

  constructor(
    private readonly interner: Interner,
    private readonly clusterSubjectOf: (region: string, cluster: string) => string,
  ) {}

  /** Reads `subject`'s parts into this; false when it is no event subject (the parts are then stale). */
  read(subject: string): boolean {
    const p = this.prefix;
    if (p !== "" && hasPrefix(subject, p)) return true;
    this.prefix = ""; // until every part below is this subject's (clusterSubjectOf throws for a bad token)
    const parsed = parseEventSubject(subject);
    if (!parsed) return false;
    const first = parsed.ids[0] as string;
    this.region = this.interner.string(parsed.region);
    this.kind = parsed.kind;
    this.clusterSubject = CLUSTER_KINDS.has(parsed.kind) ? this.clusterSubjectOf(this.region, first) : "";
    if (parsed.ids.length > 1)
      this.prefix = subject.slice(0, EVENT_SUBJECT_PREFIX.length + parsed.region.length + parsed.kind.length + first.length + 3);
    return true;
  }
}

const CLUSTER_KINDS = new Set(["instance", "service", "task"]);

/**
 * A string JSON.stringify writes between quotes unchanged: no quote, backslash or control character,
 * and no surrogate (strings with astral characters are left to JSON.stringify too).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are among what JSON escapes
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** `map[key][name] = value`, the inner map made on first use. */
function indexUnder(map: Map<string, Map<string, string>>, key: string, name: string, value: string) {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  inner.set(name, value);
}

function index(map: Map<string, Set<string>>, key: string, value: string) {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

/** `held` with each of `ports` counted `sign` more times: the instance's own map from its first port on. */
function countPorts(held: ReadonlyMap<number, number>, ports: readonly number[], sign: 1 | -1) {
  if (ports.length === 0) return held;
  const own = held === NO_PORTS ? new Map<number, number>() : (held as Map<number, number>);
  for (const p of ports) bump(own, p, sign);
  return own;
}

function bump<K>(m: Map<K, number>, key: K, by: number) {
  const n = (m.get(key) ?? 0) + by;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}
