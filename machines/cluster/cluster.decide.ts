import type { SnapshotFrom } from "xstate";
import type { ClusterCreated, ClusterEvent } from "../../events/cluster.events.ts";
import type { Tag } from "../../events/shapes.ts";
import { accept, type Decision, reject, unreachable } from "../decider.ts";
import { mergeTags, removeTags } from "../tags.ts";
import { pureTransitions } from "../transition.ts";
import { clusterMachine } from "./cluster.machine.ts";

export type ClusterSnapshot = SnapshotFrom<typeof clusterMachine>;

/** What a cluster still holds; DeleteCluster is refused while any count is non-zero. */
export interface ClusterHoldings {
  activeServices: number;
  tasks: number;
  instances: number;
}

export type ClusterCommand =
  | { type: "CreateCluster"; event: ClusterCreated }
  | { type: "DeleteCluster"; at: number; holdings: ClusterHoldings }
  | { type: "UpdateCluster"; event: Extract<ClusterEvent, { type: "ClusterUpdated" }> }
  | { type: "PutCapacityProviders"; event: Extract<ClusterEvent, { type: "ClusterCapacityProvidersPut" }> }
  | { type: "TagCluster"; at: number; tags: Tag[] }
  | { type: "UntagCluster"; at: number; tagKeys: string[] };

export const CLUSTER_NOT_FOUND = "Cluster not found.";

const clusterTransitions = pureTransitions(clusterMachine);

export const initialCluster = (): ClusterSnapshot => clusterTransitions.initial();

/** The aggregate in state `value` with `context`, as a fold would have left it (a read-model snapshot restored). */
export const restoreCluster = (value: unknown, context: ClusterSnapshot["context"]): ClusterSnapshot =>
  clusterTransitions.snapshot(value, context);

export function evolveCluster(s: ClusterSnapshot, e: ClusterEvent): ClusterSnapshot {
  return clusterTransitions.transition(s, e)[0];
}

export function foldCluster(events: readonly ClusterEvent[]): ClusterSnapshot {
  return events.reduce(evolveCluster, initialCluster());
}

const isActive = (s: ClusterSnapshot) => s.value === "ACTIVE";

export function decideCluster(command: ClusterCommand, s: ClusterSnapshot): Decision<ClusterEvent> {
  switch (command.type) {
    case "CreateCluster":
      // CreateCluster on an ACTIVE name returns the existing cluster unchanged (idempotent).
      return isActive(s) ? accept() : accept(command.event);
    case "DeleteCluster": {
      if (!isActive(s)) return reject("ClusterNotFoundException", CLUSTER_NOT_FOUND);
      const h = command.holdings;
      if (h.activeServices > 0)
        return reject("ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active.");
      if (h.instances > 0)
        return reject(
          "ClusterContainsContainerInstancesException",
          "The Cluster cannot be deleted while Container Instances are active or draining.",
        );
      if (h.tasks > 0)
        return reject("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.");
      return accept({ type: "ClusterDeleted", at: command.at });
    }
    case "UpdateCluster":
    case "PutCapacityProviders":
      return isActive(s) ? accept(command.event) : reject("ClusterNotFoundException", CLUSTER_NOT_FOUND);
    case "TagCluster":
      if (!isActive(s)) return reject("ClusterNotFoundException", CLUSTER_NOT_FOUND);
      return accept({ type: "ClusterTagsChanged", at: command.at, tags: mergeTags(s.context.tags, command.tags) });
    case "UntagCluster":
      if (!isActive(s)) return reject("ClusterNotFoundException", CLUSTER_NOT_FOUND);
      return accept({
        type: "ClusterTagsChanged",
        at: command.at,
        tags: removeTags(s.context.tags, command.tagKeys),
      });
    default:
      return unreachable(command);
  }
}
