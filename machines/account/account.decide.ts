import type { SnapshotFrom } from "xstate";
import type {
  AccountEvent,
  AutoScalingGroupProvider,
  CapacityProviderCreated,
  SettingName,
} from "../../events/account.events.ts";
import type { Tag } from "../../events/shapes.ts";
import { accept, type Decision, reject, unreachable } from "../decider.ts";
import { mergeTags, removeTags } from "../tags.ts";
import { pureTransitions } from "../transition.ts";
import { accountMachine, type CapacityProviderRecord } from "./account.machine.ts";
import { validateSetting } from "./account.settings.ts";
import { isBuiltIn, updatedAutoScalingGroupProvider } from "./capacity-providers.ts";

export type AccountSnapshot = SnapshotFrom<typeof accountMachine>;

export type AccountCommand =
  | {
      type: "PutSetting";
      at: number;
      name: SettingName;
      value: string;
      principalArn: string;
      viaDefault: boolean;
      forRoot: boolean;
    }
  | { type: "DeleteSetting"; at: number; name: SettingName; principalArn: string }
  | { type: "CreateCapacityProvider"; event: CapacityProviderCreated }
  | {
      type: "UpdateCapacityProvider";
      at: number;
      name: string;
      update: Omit<AutoScalingGroupProvider, "autoScalingGroupArn">;
    }
  | { type: "DeleteCapacityProvider"; at: number; name: string; associatedWith: string[] }
  | { type: "TagCapacityProvider"; at: number; name: string; tags: Tag[] }
  | { type: "UntagCapacityProvider"; at: number; name: string; tagKeys: string[] };

/** ECS allows at most 50 tags per resource (keys with the aws: prefix do not count). */
export const MAX_TAGS = 50;

export const PROVIDER_EXISTS =
  "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.";
export const PROVIDER_NOT_FOUND =
  "The specified capacity provider does not exist. Specify a valid name or ARN and try again.";

const accountTransitions = pureTransitions(accountMachine);

export const initialAccount = (): AccountSnapshot => accountTransitions.initial();

/** The aggregate in state `value` with `context`, as a fold would have left it (a read-model snapshot restored). */
export const restoreAccount = (value: unknown, context: AccountSnapshot["context"]): AccountSnapshot =>
  accountTransitions.snapshot(value, context);
export const evolveAccount = (s: AccountSnapshot, e: AccountEvent): AccountSnapshot =>
  accountTransitions.transition(s, e)[0];
export const foldAccount = (events: readonly AccountEvent[]) => events.reduce(evolveAccount, initialAccount());

/** An ACTIVE provider created in the account (never FARGATE / FARGATE_SPOT). */
export function activeProvider(s: AccountSnapshot, name: string): CapacityProviderRecord | undefined {
  return s.context.capacityProviders.find((p) => p.name === name && p.status === "ACTIVE");
}

const counted = (tags: readonly Tag[]) => tags.filter((t) => !t.key.toLowerCase().startsWith("aws:")).length;
const sameTags = (a: readonly Tag[], b: readonly Tag[]) => JSON.stringify(a) === JSON.stringify(b);

export function decideAccount(command: AccountCommand, s: AccountSnapshot): Decision<AccountEvent> {
  switch (command.type) {
    case "PutSetting": {
      const bad = validateSetting(command.name, command.value, command);
      if (bad) return reject(bad.code, bad.message);
      const current = s.context.settings.find(
        (x) => x.name === command.name && x.principalArn === command.principalArn,
      );
      // Setting the value a principal already has changes nothing.
      if (current?.value === command.value) return accept();
      return accept({
        type: "AccountSettingPut",
        at: command.at,
        name: command.name,
        value: command.value,
        principalArn: command.principalArn,
      });
    }

    case "DeleteSetting": {
      if (command.name === "guardDutyActivate")
        return reject(
          "InvalidParameterException",
          "The guardDutyActivate account setting is read-only: it is managed on the account's behalf.",
        );
      const current = s.context.settings.find(
        (x) => x.name === command.name && x.principalArn === command.principalArn,
      );
      if (!current)
        return reject(
          "InvalidParameterException",
          `No ${command.name} account setting is set for ${command.principalArn}.`,
        );
      return accept({
        type: "AccountSettingDeleted",
        at: command.at,
        name: command.name,
        principalArn: command.principalArn,
      });
    }

    case "CreateCapacityProvider": {
      const e = command.event;
      if (isBuiltIn(e.name) || activeProvider(s, e.name)) return reject("ClientException", PROVIDER_EXISTS);
      const asg = e.autoScalingGroupProvider.autoScalingGroupArn;
      const sharing = s.context.capacityProviders.find(
        (p) => p.status === "ACTIVE" && p.autoScalingGroupProvider.autoScalingGroupArn === asg,
      );
      if (sharing)
        return reject(
          "ClientException",
          "The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.",
        );
      return accept(e);
    }

    case "UpdateCapacityProvider": {
      if (isBuiltIn(command.name))
        return reject(
          "InvalidParameterException",
          `The ${command.name} capacity provider is reserved and cannot be updated.`,
        );
      const p = activeProvider(s, command.name);
      if (!p) return reject("ClientException", PROVIDER_NOT_FOUND);
      const next = updatedAutoScalingGroupProvider(p.autoScalingGroupProvider, command.update);
      return accept({
        type: "CapacityProviderUpdated",
        at: command.at,
        name: command.name,
        autoScalingGroupProvider: next,
      });
    }

    case "DeleteCapacityProvider": {
      if (isBuiltIn(command.name))
        return reject(
          "InvalidParameterException",
          `The ${command.name} capacity provider is reserved and cannot be deleted. Disassociate it from a cluster with PutClusterCapacityProviders or by deleting the cluster.`,
        );
      const p = activeProvider(s, command.name);
      if (!p) return reject("ClientException", PROVIDER_NOT_FOUND);
      // Not an error in ECS: the provider stays ACTIVE and its updateStatus says why it was not deleted.
      if (command.associatedWith.length > 0) {
        const reason = `The capacity provider cannot be deleted because it is associated with cluster: ${command.associatedWith.join(", ")}. Remove the capacity provider from the cluster and try again.`;
        if (p.lastChange === "DELETE_FAILED" && p.failureReason === reason) return accept();
        return accept({ type: "CapacityProviderDeleteFailed", at: command.at, name: command.name, reason });
      }
      return accept({ type: "CapacityProviderDeleted", at: command.at, name: command.name });
    }

    case "TagCapacityProvider":
    case "UntagCapacityProvider": {
      const p = activeProvider(s, command.name);
      if (!p) return reject("ResourceNotFoundException", "The specified capacity provider was not found.");
      const tags =
        command.type === "TagCapacityProvider" ? mergeTags(p.tags, command.tags) : removeTags(p.tags, command.tagKeys);
      if (counted(tags) > MAX_TAGS)
        return reject("LimitExceededException", `A resource can have at most ${MAX_TAGS} tags.`);
      return sameTags(tags, p.tags)
        ? accept()
        : accept({ type: "CapacityProviderTagsChanged", at: command.at, name: command.name, tags });
    }

    default:
      return unreachable(command);
  }
}
