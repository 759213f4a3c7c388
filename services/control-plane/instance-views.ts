import type { Attribute, Resource } from "../../events/shapes.ts";
import type { InstanceSnapshot } from "../../machines/instance/instance.decide.ts";
import type { InstanceView } from "../../machines/placement/types.ts";
import type { Agg, Usage } from "./read-model.ts";

/** What the index reads from the read model. */
export interface InstanceViewSource {
  instances: ReadonlyMap<string, Agg<InstanceSnapshot>>;
  instancesByCluster: ReadonlyMap<string, ReadonlySet<string>>;
  usage: ReadonlyMap<string, Usage>;
}

interface ClusterViews {
  /** Registered, non-INACTIVE instances in ARN order (the order placement works in). */
  list: InstanceView[];
  /** instance subject → its position in `list`. */
  at: Map<string, number>;
}

/** Registered resources as placement reads them. */
interface Resources {
  cpu: number;
  memory: number;
  ports: number[];
  portsUdp: number[];
}

/** Attributes, capacity and registered resources: what changes only with the instance's own events. */
interface Base extends Resources {
  agg: Agg<InstanceSnapshot>;
  attributes: Record<string, string | null>;
}

const byArn = (a: InstanceView, b: InstanceView) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0);

/**
 * The placement engine's view of every instance, kept current instead of rebuilt per placement:
 * the read model calls `touch` when an instance's aggregate or what its tasks hold changes, and
 * `of(cluster)` rebuilds only the views touched since the last call. Rebuilding all 10,000 views
 * of a cluster for every RunTask was most of a placement's cost.
 *
 * The returned list is in ARN order and is replaced, never modified, for a membership change; a
 * view inside it is replaced when its instance changes. Callers read it synchronously and never
 * modify it (placement copies what it charges).
 */
export class InstanceViewIndex {
  private readonly clusters = new Map<string, ClusterViews>();
  private readonly dirty = new Map<string, Set<string>>();
  private readonly bases = new Map<string, Base>();
  private readonly attributeTables = new WeakMap<
    readonly Attribute[],
    WeakMap<readonly Attribute[], Record<string, string | null>>
  >();
  private readonly resourceTables = new WeakMap<readonly Resource[], Resources>();
  /** Instances found lost whose disconnection is not folded yet → their aggregate when found. */
  private readonly lost = new Map<string, Agg<InstanceSnapshot>>();

  constructor(private readonly model: InstanceViewSource) {}

  /**
   * The instance's agent is lost and the fact is on its way (the lost-agent sweep records it):
   * placement sees the instance as disconnected from now on, until its aggregate moves on (that
   * fact, or a heartbeat that came back in time).
   */
  markLost(clusterSubject: string, instanceSubject: string): void {
    const agg = this.model.instances.get(instanceSubject);
    if (!agg) return;
    this.lost.set(instanceSubject, agg);
    this.touch(clusterSubject, instanceSubject);
  }

  /** markLost undone: the fact could not be recorded. */
  unmarkLost(clusterSubject: string, instanceSubject: string): void {
    if (this.lost.delete(instanceSubject)) this.touch(clusterSubject, instanceSubject);
  }

  /** Something about the instance changed (its events, or the tasks placed on it). */
  touch(clusterSubject: string, instanceSubject: string): void {
    if (!this.clusters.has(clusterSubject)) return; // not built yet: built whole on first use
    let set = this.dirty.get(clusterSubject);
    if (!set) {
      set = new Set();
      this.dirty.set(clusterSubject, set);
    }
    set.add(instanceSubject);
  }

  /** Every registered, non-INACTIVE instance of the cluster, in ARN order. */
  of(clusterSubject: string): readonly InstanceView[] {
    let c = this.clusters.get(clusterSubject);
    if (!c) {
      c = this.build(clusterSubject);
      this.clusters.set(clusterSubject, c);
      this.dirty.delete(clusterSubject);
      return c.list;
    }
    const dirty = this.dirty.get(clusterSubject);
    if (!dirty || dirty.size === 0) return c.list;
    this.dirty.delete(clusterSubject);
    let membership = false;
    for (const subject of dirty) {
      const view = this.view(subject);
      const i = c.at.get(subject);
      if (i === undefined || view === undefined) {
        membership ||= i !== undefined || view !== undefined;
        continue;
      }
      c.list[i] = view;
    }
    if (membership) {
      c = this.build(clusterSubject);
      this.clusters.set(clusterSubject, c);
    }
    return c.list;
  }

  private build(clusterSubject: string): ClusterViews {
    const list: InstanceView[] = [];
    const subjectOf = new Map<InstanceView, string>();
    for (const subject of this.model.instancesByCluster.get(clusterSubject) ?? []) {
      const v = this.view(subject);
      if (!v) continue;
      list.push(v);
      subjectOf.set(v, subject);
    }
    list.sort(byArn);
    const at = new Map<string, number>();
    for (const [i, v] of list.entries()) at.set(subjectOf.get(v) as string, i);
    return { list, at };
  }

  private view(subject: string): InstanceView | undefined {
    const agg = this.model.instances.get(subject);
    if (!agg) return undefined;
    const lostAt = this.lost.get(subject);
    if (lostAt !== undefined && lostAt !== agg) this.lost.delete(subject);
    const status = agg.snapshot.value as InstanceView["status"];
    if (status === "INACTIVE" || (status as string) === "NEW") return undefined;
    const i = agg.snapshot.context;
    const base = this.base(subject, agg);
    const usage = this.model.usage.get(subject);
    const taskGroups: Record<string, number> = Object.create(null);
    for (const [group, n] of usage?.groups ?? []) taskGroups[group] = n;
    return {
      arn: i.containerInstanceArn,
      id: i.instanceId,
      status,
      agentConnected: i.agentConnected && lostAt !== agg,
      attributes: base.attributes,
      ec2InstanceId: i.ec2InstanceId,
      agentVersion: i.versionInfo.agentVersion,
      registeredAt: i.registeredAt,
      runningTasksCount: usage?.running ?? 0,
      remaining: {
        cpu: base.cpu - (usage?.cpu ?? 0),
        memory: base.memory - (usage?.memory ?? 0),
        ports: usage?.ports.size ? [...base.ports, ...usage.ports.keys()] : base.ports,
        portsUdp: usage?.portsUdp.size ? [...base.portsUdp, ...usage.portsUdp.keys()] : base.portsUdp,
      },
      taskGroups,
      capacity: i.capacity,
    };
  }

  private base(subject: string, agg: Agg<InstanceSnapshot>): Base {
    const known = this.bases.get(subject);
    if (known?.agg === agg) return known;
    const i = agg.snapshot.context;
    const base: Base = {
      agg,
      attributes: this.attributeTable(i.attributes, i.customAttributes),
      ...this.resources(i.registeredResources),
    };
    this.bases.set(subject, base);
    return base;
  }

  /**
   * The attributes as a table by name, one per distinct pair of lists: the read model shares lists
   * of equal content between instances (intern.ts), so a fleet's instances share a few tables
   * instead of holding one each (a table of thirty-odd names is a 1.6 KB hash table).
   */
  private attributeTable(
    attributes: readonly Attribute[],
    custom: readonly Attribute[],
  ): Record<string, string | null> {
    let byCustom = this.attributeTables.get(attributes);
    if (!byCustom) {
      byCustom = new WeakMap();
      this.attributeTables.set(attributes, byCustom);
    }
    let table = byCustom.get(custom);
    if (!table) {
      table = Object.create(null) as Record<string, string | null>;
      for (const a of attributes) table[a.name] = a.value ?? null;
      for (const a of custom) table[a.name] = a.value ?? null;
      byCustom.set(custom, table);
    }
    return table;
  }

  /** Registered CPU, memory and ports, one per (shared) resource list. */
  private resources(registered: readonly Resource[]): Resources {
    let r = this.resourceTables.get(registered);
    if (!r) {
      const reg = (name: string) => registered.find((x) => x.name === name);
      r = {
        cpu: reg("CPU")?.integerValue ?? 0,
        memory: reg("MEMORY")?.integerValue ?? 0,
        ports: (reg("PORTS")?.stringSetValue ?? []).map(Number),
        portsUdp: (reg("PORTS_UDP")?.stringSetValue ?? []).map(Number),
      };
      this.resourceTables.set(registered, r);
    }
    return r;
  }
}
