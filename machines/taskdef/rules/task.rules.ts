import { parseExpression } from "../../placement/cql.ts";
import { clientException, type Rule } from "./request.ts";
import { validateTags } from "./tags.ts";

/**
 * Task-level rules of RegisterTaskDefinition. Messages marked [seen] are ECS's own words as
 * returned by real ECS (public issue threads, AWS docs); the others state the documented rule.
 */

const NAME = /^[A-Za-z0-9_-]+$/;
const NAME_MAX = 255;

/** ECS's limit on containers per task definition (service quota, not adjustable). */
export const MAX_CONTAINERS = 10;
/** Placement constraints per task, counting the task definition's and RunTask's together. */
export const MAX_PLACEMENT_CONSTRAINTS = 10;
/** ephemeralStorage.sizeInGiB range (API model). */
const EPHEMERAL_MIN_GIB = 21;
const EPHEMERAL_MAX_GIB = 200;

const TASK_CPU_INVALID =
  "Invalid 'cpu' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";
const TASK_MEMORY_INVALID =
  "Invalid 'memory' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";

export const familyRequired: Rule = ({ req }) =>
  req.family ? undefined : clientException("Family should not be null or empty.");

export const familyLength: Rule = ({ req }) =>
  (req.family ?? "").length > NAME_MAX ? clientException(`Family must be at most ${NAME_MAX} characters.`) : undefined;

/** [seen] */
export const familyCharacters: Rule = ({ req }) =>
  NAME.test(req.family ?? "") ? undefined : clientException("Family contains invalid characters.");

/** [seen] (CloudFormation without ContainerDefinitions) */
export const containersRequired: Rule = ({ containers }) =>
  containers.length > 0 ? undefined : clientException("Container list cannot be empty.");

/** [seen] */
export const containersMax: Rule = ({ containers }) =>
  containers.length <= MAX_CONTAINERS ? undefined : clientException("Too many containers.");

/** [seen] (developer guide, task-cpu-memory-error) */
export const taskCpuValid: Rule = ({ cpu }) => (cpu === null ? clientException(TASK_CPU_INVALID) : undefined);

/** Same shape as the cpu message; ECS's exact memory text is not confirmed. */
export const taskMemoryValid: Rule = ({ memory }) =>
  memory === null ? clientException(TASK_MEMORY_INVALID) : undefined;

/** [seen] The sum of container cpu reservations must fit the task's cpu. */
export const cpuSumWithinTask: Rule = ({ cpu, containers }) => {
  if (typeof cpu !== "number") return undefined;
  const sum = containers.reduce((n, c) => n + (c.cpu ?? 0), 0);
  return sum <= cpu
    ? undefined
    : clientException("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.");
};

/**
 * The memory reserved by the containers (memoryReservation, else memory) must fit the task's
 * memory. [seen] for the memoryReservation wording; the 'memory' wording mirrors it.
 */
export const memorySumWithinTask: Rule = ({ memory, containers }) => {
  if (typeof memory !== "number") return undefined;
  const sum = containers.reduce((n, c) => n + (c.memoryReservation ?? c.memory ?? 0), 0);
  if (sum <= memory) return undefined;
  const member = containers.some((c) => c.memoryReservation !== undefined) ? "memoryReservation" : "memory";
  return clientException(
    `The sum of all container '${member}' values cannot be greater than the value of the task 'memory'.`,
  );
};

/** Volume names: letters, digits, '-', '_', at most 255; unique, as mount points refer to them. */
export const volumeNames: Rule = ({ req }) => {
  const seen = new Set<string>();
  for (const vol of req.volumes ?? []) {
    const name = vol.name ?? "";
    if (!name) return clientException("Volume.name should not be null or empty.");
    if (name.length > NAME_MAX || !NAME.test(name))
      return clientException(`Volume name '${name}' contains invalid characters.`);
    if (seen.has(name)) return clientException(`Volume names must be unique within a Task Definition ('${name}').`);
    seen.add(name);
  }
  return undefined;
};

/** Only memberOf constraints belong in a task definition; distinctInstance is a RunTask/service one. */
export const placementConstraints: Rule = ({ req }) => {
  const list = req.placementConstraints ?? [];
  if (list.length > MAX_PLACEMENT_CONSTRAINTS)
    return clientException(`A task definition can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints.`);
  for (const pc of list) {
    if (pc.type !== "memberOf")
      return clientException(
        `Invalid placement constraint type '${pc.type ?? ""}': task definitions support only memberOf.`,
      );
    if (!pc.expression) return clientException("A memberOf placement constraint requires an expression.");
    // An expression that does not parse would refuse every RunTask and service of the definition.
    const parsed = parseExpression(pc.expression);
    if (!parsed.ok) return clientException(parsed.rejection.message);
  }
  return undefined;
};

export const ephemeralStorage: Rule = ({ req }) => {
  const size = req.ephemeralStorage?.sizeInGiB;
  if (size === undefined || (size >= EPHEMERAL_MIN_GIB && size <= EPHEMERAL_MAX_GIB)) return undefined;
  return clientException(
    `Invalid 'ephemeralStorage.sizeInGiB' setting: it must be between ${EPHEMERAL_MIN_GIB} and ${EPHEMERAL_MAX_GIB}.`,
  );
};

export const tags: Rule = ({ req }) => {
  const r = validateTags(req.tags ?? []);
  return r.ok ? undefined : r.rejection;
};
