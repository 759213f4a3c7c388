import { describe, expect, test } from "vitest";
import type { ClusterCreated, ClusterEvent } from "../../events/cluster.events.ts";
import type { InstanceEvent, InstanceRegistered } from "../../events/instance.events.ts";
import {
  type ClusterCommand,
  type ClusterSnapshot,
  decideCluster,
  evolveCluster,
  foldCluster,
  initialCluster,
} from "../../machines/cluster/cluster.decide.ts";
import {
  decideInstance,
  evolveInstance,
  foldInstance,
  type InstanceCommand,
  type InstanceSnapshot,
  initialInstance,
} from "../../machines/instance/instance.decide.ts";
import { instanceHealth } from "../../services/api/render.ts";
import { specFor } from "../support/decider-spec.ts";

const cluster = specFor<ClusterSnapshot, ClusterCommand, ClusterEvent>({
  initial: initialCluster,
  evolve: evolveCluster,
  decide: decideCluster,
});
const instance = specFor<InstanceSnapshot, InstanceCommand, InstanceEvent>({
  initial: initialInstance,
  evolve: evolveInstance,
  decide: decideInstance,
});

const created: ClusterCreated = {
  type: "ClusterCreated",
  at: 1,
  clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c1",
  clusterName: "c1",
  settings: [],
  capacityProviders: [],
  defaultCapacityProviderStrategy: [],
  tags: [],
};
const empty = { activeServices: 0, tasks: 0, instances: 0 };

describe("cluster decider", () => {
  test("CreateCluster creates once and is idempotent on an ACTIVE name", () => {
    cluster.given([]).when({ type: "CreateCluster", event: created }).thenEvents([created]);
    cluster.given([created]).when({ type: "CreateCluster", event: created }).thenEvents([]);
  });

  test("a deleted name can be created again", () => {
    const deleted: ClusterEvent = { type: "ClusterDeleted", at: 2 };
    cluster.given([created, deleted]).when({ type: "CreateCluster", event: { ...created, at: 3 } }).thenEvents([{ ...created, at: 3 }]);
    expect(foldCluster([created, deleted]).value).toBe("INACTIVE");
  });

  test("DeleteCluster is refused while the cluster holds services, instances or tasks", () => {
    const del = (h: Partial<typeof empty>): ClusterCommand => ({ type: "DeleteCluster", at: 5, holdings: { ...empty, ...h } });
    cluster.given([created]).when(del({ activeServices: 1 })).rejects("ClusterContainsServicesException", /Services are active/);
    cluster.given([created]).when(del({ instances: 2 })).rejects("ClusterContainsContainerInstancesException");
    cluster.given([created]).when(del({ tasks: 1 })).rejects("ClusterContainsTasksException", /Tasks are active/);
    cluster.given([created]).when(del({})).thenEvents([{ type: "ClusterDeleted", at: 5 }]);
    cluster.given([]).when(del({})).rejects("ClusterNotFoundException", "Cluster not found.");
  });

  test("tags merge and untag", () => {
    const tagged = cluster.given([created]).when({ type: "TagCluster", at: 2, tags: [{ key: "a", value: "1" }] });
    tagged.thenEvents([{ type: "ClusterTagsChanged", at: 2, tags: [{ key: "a", value: "1" }] }]);
  });

  test("replay equals the live path", () => {
    const events: ClusterEvent[] = [created, { type: "ClusterTagsChanged", at: 2, tags: [{ key: "k", value: "v" }] }];
    const live = events.reduce(evolveCluster, initialCluster());
    const replayed = foldCluster(JSON.parse(JSON.stringify(events)));
    expect(replayed.context).toEqual(live.context);
    expect(replayed.value).toBe(live.value);
  });
});

const registered: InstanceRegistered = {
  type: "InstanceRegistered",
  at: 10,
  containerInstanceArn: "arn:aws:ecs:us-east-1:000000000000:container-instance/c1/abc",
  instanceId: "abc",
  cluster: "c1",
  hostname: "h",
  registeredResources: [{ name: "CPU", type: "INTEGER", integerValue: 2048 }],
  attributes: [{ name: "ecs.os-type", value: "linux" }],
  versionInfo: { agentVersion: "0.1.0" },
  capacity: ["EC2"],
  tags: [],
};

describe("container instance decider", () => {
  test("registers once, ACTIVE and connected", () => {
    instance.given([]).when({ type: "Register", event: registered }).thenEvents([registered]);
    const s = foldInstance([registered]);
    expect(s.value).toBe("ACTIVE");
    expect(s.context.agentConnected).toBe(true);
  });

  test("ACTIVE ⇄ DRAINING; setting the current status changes nothing", () => {
    instance.given([registered]).when({ type: "SetStatus", at: 11, status: "DRAINING" }).thenEvents([
      { type: "InstanceStatusChanged", at: 11, status: "DRAINING" },
    ]);
    instance.given([registered]).when({ type: "SetStatus", at: 11, status: "ACTIVE" }).thenEvents([]);
  });

  test("connectivity facts are recorded only on change", () => {
    const lost: InstanceEvent = { type: "InstanceAgentDisconnected", at: 50, lastHeartbeatAt: 20 };
    instance.given([registered]).when({ type: "MarkDisconnected", at: 50, lastHeartbeatAt: 20 }).thenEvents([lost]);
    instance.given([registered, lost]).when({ type: "MarkDisconnected", at: 60, lastHeartbeatAt: 20 }).thenEvents([]);
    instance.given([registered, lost]).when({ type: "Heartbeat", at: 70 }).thenEvents([{ type: "InstanceAgentConnected", at: 70 }]);
    instance.given([registered]).when({ type: "Heartbeat", at: 70 }).thenEvents([]);
  });

  test("the container runtime's health is recorded on a change only, moves no version, and is the instance's health", () => {
    const impaired: InstanceEvent = { type: "InstanceRuntimeHealthChanged", at: 30, status: "IMPAIRED" };
    const ok: InstanceEvent = { type: "InstanceRuntimeHealthChanged", at: 20, status: "OK" };
    instance.given([registered]).when({ type: "ObserveRuntimeHealth", at: 20, status: "OK" }).thenEvents([ok]);
    instance.given([registered, ok]).when({ type: "ObserveRuntimeHealth", at: 25, status: "OK" }).thenEvents([]);
    instance.given([registered, ok]).when({ type: "ObserveRuntimeHealth", at: 30, status: "IMPAIRED" }).thenEvents([impaired]);
    const gone: InstanceEvent = { type: "InstanceDeregistered", at: 40, force: true };
    instance.given([registered, gone]).when({ type: "ObserveRuntimeHealth", at: 50, status: "IMPAIRED" }).thenEvents([]);

    expect(instanceHealth(foldInstance([registered]).context)).toEqual({ overallStatus: "INSUFFICIENT_DATA", details: [] });
    const s = foldInstance([registered, ok, impaired]);
    expect(s.context.version).toBe(foldInstance([registered]).context.version);
    expect(instanceHealth(s.context)).toEqual({
      overallStatus: "IMPAIRED",
      details: [{ type: "CONTAINER_RUNTIME", status: "IMPAIRED", lastStatusChange: 0.03 }],
    });
    const lost: InstanceEvent = { type: "InstanceAgentDisconnected", at: 90, lastHeartbeatAt: 60 };
    expect(instanceHealth(foldInstance([registered, ok, lost]).context)).toEqual({
      overallStatus: "INSUFFICIENT_DATA",
      details: [{ type: "CONTAINER_RUNTIME", status: "INSUFFICIENT_DATA", lastUpdated: 0.06 }],
    });
  });

  test("deregistering with running tasks needs force", () => {
    instance.given([registered]).when({ type: "Deregister", at: 5, force: false, runningTasks: 2 }).rejects("InvalidParameterException");
    instance.given([registered]).when({ type: "Deregister", at: 5, force: true, runningTasks: 2 }).thenEvents([
      { type: "InstanceDeregistered", at: 5, force: true },
    ]);
  });

  test("a deregistered instance is INACTIVE with its agent no longer connected, and a heartbeat changes nothing", () => {
    const gone: InstanceEvent = { type: "InstanceDeregistered", at: 5, force: true };
    const s = foldInstance([registered, gone]);
    expect([s.value, s.context.agentConnected, s.context.deregisteredAt]).toEqual(["INACTIVE", false, 5]);
    instance.given([registered, gone]).when({ type: "Heartbeat", at: 70 }).thenEvents([]);
  });

  test("custom attributes are limited to 10 per instance", () => {
    const attrs = Array.from({ length: 11 }, (_, i) => ({ name: `a${i}`, value: "v" }));
    instance.given([registered]).when({ type: "PutAttributes", at: 5, attributes: attrs }).rejects("AttributeLimitExceededException");
    instance.given([registered]).when({ type: "PutAttributes", at: 5, attributes: attrs.slice(0, 10) }).thenTypes(["InstanceAttributesPut"]);
  });
});
