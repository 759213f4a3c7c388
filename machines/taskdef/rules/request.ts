import { z } from "zod";
import type { NetworkMode } from "../../../events/shapes.ts";
import { type Compatibility, ContainerDefinition, TaskDefinitionSpec } from "../../../events/taskdef.shapes.ts";
import type { Rejection } from "../../decider.ts";

/**
 * The RegisterTaskDefinition request as ECS's JSON model types it, built from the stored shapes so
 * a member's type is written once. Differences from the stored shape are only what the request
 * allows and the stored definition does not: members ECS fills in (volumes, placementConstraints),
 * members whose absence has its own ECS message (family, containerDefinitions, name, image) and
 * tags. Unknown members are stripped, as ECS's server ignores them (botocore refuses them before
 * they are sent, so only hand-written clients send any).
 */
export const ContainerInput = ContainerDefinition.extend({
  name: z.string().optional(),
  image: z.string().optional(),
});
export type ContainerInput = z.infer<typeof ContainerInput>;

/** ECS's Tag has both members optional in the model; the tag rules give the messages. */
export const TagInput = z.object({ key: z.string().optional(), value: z.string().optional() });
export type TagInput = z.infer<typeof TagInput>;

export const RegisterTaskDefinitionRequest = TaskDefinitionSpec.omit({
  compatibilities: true,
  requiresAttributes: true,
}).extend({
  family: z.string().optional(),
  containerDefinitions: z.array(ContainerInput).optional(),
  volumes: TaskDefinitionSpec.shape.volumes.optional(),
  placementConstraints: TaskDefinitionSpec.shape.placementConstraints.optional(),
  tags: z.array(TagInput).optional(),
});
export type RegisterTaskDefinitionRequest = z.infer<typeof RegisterTaskDefinitionRequest>;

/**
 * What every rule sees: the typed request plus the values several rules derive (computed once).
 * `cpu`/`memory` are the task-level values in units/MiB: undefined when not given, null when given
 * but not understood (the unit rules reject those first, so later rules may treat null as absent).
 */
export interface TaskView {
  req: RegisterTaskDefinitionRequest;
  containers: ContainerInput[];
  /** The mode the task will run with: ECS treats an omitted networkMode as bridge (Linux). */
  mode: NetworkMode;
  cpu: number | undefined | null;
  memory: number | undefined | null;
  /** requiresCompatibilities as a set. */
  requires: ReadonlySet<LaunchCompatibility>;
}
export type LaunchCompatibility = z.infer<typeof Compatibility>;

/** A rule returns nothing when satisfied, otherwise ECS's rejection. Rules never throw. */
export type Rule = (v: TaskView) => Rejection | undefined;

export const clientException = (message: string): Rejection => ({ code: "ClientException", message });
export const invalidParameter = (message: string): Rejection => ({ code: "InvalidParameterException", message });

/** First rejection of a list of rules, in order (ECS reports one error per request). */
export function firstRejection(rules: readonly Rule[], v: TaskView): Rejection | undefined {
  for (const rule of rules) {
    const r = rule(v);
    if (r) return r;
  }
  return undefined;
}

/** First rejection of a per-container check over every container, in order. */
export function eachContainer(check: (c: ContainerInput, v: TaskView) => Rejection | undefined): Rule {
  return (v) => {
    for (const c of v.containers) {
      const r = check(c, v);
      if (r) return r;
    }
    return undefined;
  };
}

