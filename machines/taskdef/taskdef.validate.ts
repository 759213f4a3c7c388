import type { Tag } from "../../events/shapes.ts";
import type { TaskDefinitionSpec } from "../../events/taskdef.shapes.ts";
import type { Rejection } from "../decider.ts";
import { dropNulls, shapeRejection } from "../input-shape.ts";
import { requiredCompatibilities } from "./rules/compatibility.ts";
import * as container from "./rules/container.rules.ts";
import * as network from "./rules/network.rules.ts";
import { normalise } from "./rules/normalise.ts";
import * as reference from "./rules/reference.rules.ts";
import { firstRejection, RegisterTaskDefinitionRequest, type Rule, type TaskView } from "./rules/request.ts";
import { validateTags } from "./rules/tags.ts";
import * as task from "./rules/task.rules.ts";
import { parseTaskCpu, parseTaskMemory } from "./rules/units.ts";

/**
 * RegisterTaskDefinition validation, in three steps:
 *   1. shape: the request's JSON types (zod) → InvalidParameterException naming the member path;
 *   2. rules: ECS's rules in the order below; the first one broken is the answer (ECS reports
 *      one error), mostly ClientException in ECS's own words (see rules/);
 *   3. normalisation: the definition exactly as ECS stores and echoes it.
 * Pure: no clock, no I/O; the revision, ARN and time are decided later, by the aggregate.
 */
export const REGISTER_RULES: readonly Rule[] = [
  task.familyRequired,
  task.familyLength,
  task.familyCharacters,
  task.containersRequired,
  task.containersMax,
  container.containerNameRequired,
  container.containerNameLength,
  container.containerNameCharacters,
  container.containerNamesUnique,
  container.imageRequired,
  container.imageFormat,
  container.essentialContainer,
  task.taskCpuValid,
  task.taskMemoryValid,
  container.containerCpu,
  container.containerMemoryRequired,
  container.containerMemoryMinimum,
  container.containerMemoryReservationMinimum,
  container.memoryNotBelowReservation,
  task.cpuSumWithinTask,
  task.memorySumWithinTask,
  network.noPortMappingsWithNone,
  network.containerPortValid,
  network.hostPortValid,
  network.hostPortMatchesInSharedModes,
  network.containerPortOnce,
  network.portMappingName,
  network.containerPortRanges,
  network.linksOnlyInBridge,
  network.noHostnameWithAwsvpc,
  network.noExtraHostsWithAwsvpc,
  task.volumeNames,
  reference.mountPointVolumesDeclared,
  reference.volumesFromExisting,
  reference.dependsOnExisting,
  reference.completionNotOnEssential,
  reference.dependsOnAcyclic,
  container.healthCheck,
  container.awslogsOptions,
  container.restartPolicy,
  container.environmentFiles,
  container.ulimits,
  task.placementConstraints,
  task.ephemeralStorage,
  requiredCompatibilities,
  task.tags,
];

export type RegisterValidation =
  | { ok: true; spec: TaskDefinitionSpec; tags: Tag[] }
  | { ok: false; rejection: Rejection };

export function validateRegisterTaskDefinition(input: unknown): RegisterValidation {
  const clean = dropNulls(input);
  const parsed = RegisterTaskDefinitionRequest.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      rejection: shapeRejection(issue, clean),
    };
  }
  const req = parsed.data;
  const view: TaskView = {
    req,
    containers: req.containerDefinitions ?? [],
    mode: req.networkMode ?? "bridge",
    cpu: req.cpu === undefined ? undefined : parseTaskCpu(req.cpu),
    memory: req.memory === undefined ? undefined : parseTaskMemory(req.memory),
    requires: new Set(req.requiresCompatibilities ?? []),
  };
  const rejection = firstRejection(REGISTER_RULES, view);
  if (rejection) return { ok: false, rejection };
  const tags = validateTags(req.tags ?? []);
  if (!tags.ok) return tags;
  return { ok: true, spec: normalise(view), tags: tags.tags };
}
