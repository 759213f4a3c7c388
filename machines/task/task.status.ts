import { CONTAINER_STATUSES, type ContainerStatus, TASK_STATUSES, type TaskStatus } from "../../events/task.events.ts";

/**
 * Statuses are ordered enumerations (as in amazon-ecs-agent): known status only moves forward, so
 * an observation that does not advance it is redundant and dropped. That is what makes redelivery
 * and replay harmless.
 */

const taskRank = new Map<TaskStatus, number>(TASK_STATUSES.map((s, i) => [s, i]));
const containerRank = new Map<ContainerStatus, number>(CONTAINER_STATUSES.map((s, i) => [s, i]));

export const taskStatusRank = (s: TaskStatus): number => taskRank.get(s) as number;
export const containerStatusRank = (s: ContainerStatus): number => containerRank.get(s) as number;

export const taskStatusBefore = (a: TaskStatus, b: TaskStatus) => taskStatusRank(a) < taskStatusRank(b);

/** True when moving a container from `known` to `observed` is progress. */
export const advancesContainer = (known: ContainerStatus, observed: ContainerStatus) =>
  containerStatusRank(observed) > containerStatusRank(known);
