import type { InstanceEvent } from "../../events/instance.events.ts";
import type { TaskCreated, TaskEvent } from "../../events/task.events.ts";
import type { InstanceContext } from "../../machines/instance/instance.machine.ts";

type Registration = "registeredResources" | "attributes" | "versionInfo" | "capacity";

/** Past this many entries a table starts over (old holders keep their copies; nothing breaks). */
const MAX_ENTRIES = 20_000;

/**
 * Shares what many tasks have in common, so a control plane holding 100,000 tasks holds one copy
 * of each task definition's containers and of each cluster, instance and family name instead of
 * one per task. JSON.parse gives every event its own copies; `taskCreated` swaps them for shared
 * ones before the event is folded.
 *
 * Sharing is safe because the read model never modifies a folded value (machines return new
 * objects), and content-keyed: two specs share containers only when their JSON is identical.
 */
export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly specs = new Map<string, { containers: unknown; volumes: unknown }>();
  /** The shared spec parts last seen per task definition: most tasks of one are alike. */
  private readonly recent = new Map<string, { containers: unknown; volumes: unknown }>();
  private readonly reservations = new Map<string, TaskCreated["reservation"]>();
  /** Instance registration parts (attributes, resources, versions), by their JSON. */
  private readonly values = new Map<string, unknown>();
  /** One empty overrides object and one empty tag list for every task that has none. */
  private readonly noOverrides: TaskCreated["overrides"] = {};
  private readonly noTags: TaskCreated["tags"] = [];

  string<T extends string | undefined>(s: T): T {
    if (s === undefined) return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known as T;
    if (this.strings.size >= MAX_ENTRIES) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }

  /** Shares the parts of a freshly decoded task event (owned by the caller, modified in place). */
  taskEvent(e: TaskEvent): void {
    if (e.type === "TaskCreated") this.taskCreated(e);
    else if (e.type === "TaskStopRequested" || e.type === "TaskStopped") {
      e.reason = this.string(e.reason);
      e.stopCode = this.string(e.stopCode);
    } else if (e.type === "TaskContainerChanged") e.reason = this.string(e.reason);
  }

  /**
   * Shares the parts of a freshly decoded instance event. The agents of one fleet report the same
   * thirty-odd attributes, resources and versions (the zone and instance type differ in a few
   * ways): held once per content instead of once per instance — with the placement's attribute tables built
   * from them (instance-views.ts) and a fixed-shape context, a control plane with 10,000 instances
   * and no tasks holds 38 MB of heap instead of 90.
   */
  instanceEvent(e: InstanceEvent): void {
    if (e.type === "InstanceRegistered") this.registered(e);
    else if (e.type === "InstanceReregistered") this.registration(e);
    else if (e.type === "InstanceAttributesPut") e.attributes = this.shared(e.attributes);
  }

  /** The same for an instance context restored from a snapshot (owned by the caller). */
  instanceContext(c: InstanceContext): void {
    this.registered(c);
    c.customAttributes = this.shared(c.customAttributes);
  }

  /** What a registration and the context it leaves hold alike. */
  private registered(r: Pick<InstanceContext, "cluster" | "tags" | Registration>): void {
    r.cluster = this.string(r.cluster);
    r.tags = r.tags.length === 0 ? this.noTags : this.shared(r.tags);
    this.registration(r);
  }

  /** What the agent reports each time it registers (again). */
  private registration(r: Pick<InstanceContext, Registration>): void {
    r.registeredResources = this.shared(r.registeredResources);
    r.attributes = this.shared(r.attributes);
    r.versionInfo = this.shared(r.versionInfo);
    r.capacity = this.shared(r.capacity);
  }

  /** One copy per JSON content of a decoded value; an array's elements are shared one by one too. */
  private shared<T>(value: T): T {
    const key = JSON.stringify(value);
    const known = this.values.get(key);
    if (known !== undefined) return known as T;
    if (this.values.size >= MAX_ENTRIES) this.values.clear();
    const own = Array.isArray(value)
      ? (value.map((v) => (typeof v === "object" && v !== null ? this.shared(v) : v)) as T)
      : value;
    this.values.set(key, own);
    return own;
  }

  private taskCreated(e: TaskCreated): void {
    const spec = e.spec;
    spec.clusterArn = this.string(spec.clusterArn);
    spec.cluster = this.string(spec.cluster);
    spec.taskDefinitionArn = this.string(spec.taskDefinitionArn);
    spec.family = this.string(spec.family);
    e.group = this.string(e.group);
    e.containerInstanceArn = this.string(e.containerInstanceArn);
    e.instanceId = this.string(e.instanceId);
    e.availabilityZone = this.string(e.availabilityZone);
    e.startedBy = this.string(e.startedBy);
    e.capacityProviderName = this.string(e.capacityProviderName);
    e.platformVersion = this.string(e.platformVersion);
    if (e.tags.length === 0) e.tags = this.noTags;
    if (Object.keys(e.overrides).length === 0) e.overrides = this.noOverrides;
    const r = e.reservation;
    const rkey = `${r.cpu}|${r.memory}|${r.ports.join(",")}|${r.portsUdp.join(",")}`;
    const reservation = this.reservations.get(rkey);
    if (reservation) e.reservation = reservation;
    else {
      if (this.reservations.size >= MAX_ENTRIES) this.reservations.clear();
      this.reservations.set(rkey, r);
    }
    // Compared with the task definition's last spec first: that spares writing the spec out as
    // JSON (the content key) for nearly every task.
    let shared = this.recent.get(spec.taskDefinitionArn);
    if (!shared || !sameJson(shared.containers, spec.containers) || !sameJson(shared.volumes, spec.volumes)) {
      const key = `${JSON.stringify(spec.containers)}\n${JSON.stringify(spec.volumes)}`;
      shared = this.specs.get(key);
      if (!shared) {
        if (this.specs.size >= MAX_ENTRIES) this.specs.clear();
        shared = { containers: spec.containers, volumes: spec.volumes };
        this.specs.set(key, shared);
      }
      if (this.recent.size >= MAX_ENTRIES) this.recent.clear();
      this.recent.set(spec.taskDefinitionArn, shared);
    }
    spec.containers = shared.containers as typeof spec.containers;
    spec.volumes = shared.volumes as typeof spec.volumes;
  }
}

/**
 * JSON.stringify(a) === JSON.stringify(b), for values decoded from JSON (plain objects, arrays,
 * strings, numbers, booleans, null), without writing either out: same keys in the same order.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
