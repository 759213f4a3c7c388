import { assign, setup } from "xstate";
import type { AccountEvent, AutoScalingGroupProvider, SettingName } from "../../events/account.events.ts";
import type { Tag } from "../../events/shapes.ts";

/**
 * The account aggregate of one region: account settings per principal and the capacity providers
 * created in the region. It has one state; every event only changes context.
 *
 *   ready ─AccountSettingPut / AccountSettingDeleted──────────────────────────► ready
 *   ready ─CapacityProviderCreated / Updated / Deleted / TagsChanged──────────► ready
 *
 * A capacity provider keeps its record after deletion (status INACTIVE), as ECS still describes
 * deleted providers; creating the name again replaces the record.
 */

export interface SettingRecord {
  name: SettingName;
  value: string;
  principalArn: string;
}

export interface CapacityProviderRecord {
  name: string;
  capacityProviderArn: string;
  status: "ACTIVE" | "INACTIVE";
  autoScalingGroupProvider: AutoScalingGroupProvider;
  tags: Tag[];
  /** What the last change was: ECS reports it as updateStatus (…_COMPLETE, DELETE_FAILED). */
  lastChange: "CREATE" | "UPDATE" | "DELETE" | "DELETE_FAILED";
  /** Why the last change failed (DELETE_FAILED). */
  failureReason?: string;
  createdAt: number;
  updatedAt: number;
}

export interface AccountContext {
  /** Explicit settings, one per (principal, name). Arrays, not maps: names are user input. */
  settings: SettingRecord[];
  capacityProviders: CapacityProviderRecord[];
}

type E<T extends AccountEvent["type"]> = Extract<AccountEvent, { type: T }>;

const withProvider = (
  list: readonly CapacityProviderRecord[],
  name: string,
  change: (p: CapacityProviderRecord) => CapacityProviderRecord,
) => list.map((p) => (p.name === name ? change(p) : p));

export const accountMachine = setup({
  types: { context: {} as AccountContext, events: {} as AccountEvent },
  actions: {
    putSetting: assign(({ context, event }) => {
      const e = event as E<"AccountSettingPut">;
      const others = context.settings.filter((s) => !(s.name === e.name && s.principalArn === e.principalArn));
      return { settings: [...others, { name: e.name, value: e.value, principalArn: e.principalArn }] };
    }),
    deleteSetting: assign(({ context, event }) => {
      const e = event as E<"AccountSettingDeleted">;
      return { settings: context.settings.filter((s) => !(s.name === e.name && s.principalArn === e.principalArn)) };
    }),
    createProvider: assign(({ context, event }) => {
      const e = event as E<"CapacityProviderCreated">;
      const record: CapacityProviderRecord = {
        name: e.name,
        capacityProviderArn: e.capacityProviderArn,
        status: "ACTIVE",
        autoScalingGroupProvider: e.autoScalingGroupProvider,
        tags: e.tags,
        lastChange: "CREATE",
        createdAt: e.at,
        updatedAt: e.at,
      };
      return { capacityProviders: [...context.capacityProviders.filter((p) => p.name !== e.name), record] };
    }),
    updateProvider: assign(({ context, event }) => {
      const e = event as E<"CapacityProviderUpdated">;
      return {
        capacityProviders: withProvider(context.capacityProviders, e.name, (p) => ({
          ...p,
          autoScalingGroupProvider: e.autoScalingGroupProvider,
          lastChange: "UPDATE",
          failureReason: undefined,
          updatedAt: e.at,
        })),
      };
    }),
    deleteProvider: assign(({ context, event }) => ({
      capacityProviders: withProvider(context.capacityProviders, (event as E<"CapacityProviderDeleted">).name, (p) => ({
        ...p,
        status: "INACTIVE",
        lastChange: "DELETE",
        failureReason: undefined,
        updatedAt: event.at,
      })),
    })),
    deleteFailed: assign(({ context, event }) => {
      const e = event as E<"CapacityProviderDeleteFailed">;
      return {
        capacityProviders: withProvider(context.capacityProviders, e.name, (p) => ({
          ...p,
          lastChange: "DELETE_FAILED",
          failureReason: e.reason,
          updatedAt: e.at,
        })),
      };
    }),
    tagProvider: assign(({ context, event }) => {
      const e = event as E<"CapacityProviderTagsChanged">;
      return { capacityProviders: withProvider(context.capacityProviders, e.name, (p) => ({ ...p, tags: e.tags })) };
    }),
  },
}).createMachine({
  id: "account",
  initial: "ready",
  context: { settings: [], capacityProviders: [] },
  states: {
    ready: {
      on: {
        AccountSettingPut: { actions: "putSetting" },
        AccountSettingDeleted: { actions: "deleteSetting" },
        CapacityProviderCreated: { actions: "createProvider" },
        CapacityProviderUpdated: { actions: "updateProvider" },
        CapacityProviderDeleted: { actions: "deleteProvider" },
        CapacityProviderDeleteFailed: { actions: "deleteFailed" },
        CapacityProviderTagsChanged: { actions: "tagProvider" },
      },
    },
  },
});
