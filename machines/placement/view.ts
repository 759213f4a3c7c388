import type { InstanceView } from "./types.ts";

/**
 * Reading an instance view safely: attribute and group names come from users, so lookups use
 * own properties only ("constructor" or "__proto__" must not find Object.prototype's members).
 */

/** Tasks of the group on the instance (0 when none). */
export const groupCount = (v: InstanceView, group: string): number =>
  Object.hasOwn(v.taskGroups, group) ? (v.taskGroups[group] ?? 0) : 0;

/** undefined when the attribute is absent, null when it is present without a value. */
export const attributeValue = (v: InstanceView, name: string): string | null | undefined =>
  Object.hasOwn(v.attributes, name) ? (v.attributes[name] ?? null) : undefined;

/** requiresAttributes semantics: the name is present and, when a value is given, equal to it. */
export const hasAttribute = (v: InstanceView, name: string, value?: string): boolean =>
  Object.hasOwn(v.attributes, name) && (value === undefined || v.attributes[name] === value);
