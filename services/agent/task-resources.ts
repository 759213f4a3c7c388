import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { dockerVolumeName, taskLabels } from "./container-config.ts";
import { type DockerPort, isDockerError } from "./docker/port.ts";

/**
 * Task-level Docker resources that outlive no task: task-scoped volumes (created before the first
 * container, removed at cleanup) and shared volumes (created once, never removed by the agent, as
 * ECS's `scope: shared`). Every call is idempotent: a retried StartTask finds what exists.
 */
export interface TaskResources {
  prepare(spec: TaskRuntimeSpec): Promise<void>;
  /** Extra create options every container of the task needs (e.g. the awsvpc network namespace). */
  containerOverrides(spec: TaskRuntimeSpec): { networkMode?: string };
  release(spec: TaskRuntimeSpec): Promise<void>;
}

export function taskResources(
  docker: DockerPort,
  ctx: { instanceId: string; cluster: string },
  signal: AbortSignal,
): TaskResources {
  return {
    async prepare(spec) {
      for (const v of spec.volumes) {
        if (!v.name || v.host?.sourcePath) continue;
        const cfg = v.dockerVolumeConfiguration;
        const name = dockerVolumeName(spec.taskId, v);
        if (cfg?.scope === "shared") {
          try {
            await docker.inspectVolume(name, { signal });
            continue;
          } catch (err) {
            if (!isDockerError(err, "not-found")) throw err;
            // ECS: a missing shared volume is created only when autoprovision is set.
            if (!cfg.autoprovision) throw new Error(`shared volume ${name} does not exist and autoprovision is off`);
          }
        }
        await docker.createVolume(
          {
            name,
            ...(cfg?.driver ? { driver: cfg.driver } : {}),
            ...(cfg?.driverOpts ? { driverOpts: cfg.driverOpts } : {}),
            labels: { ...(cfg?.labels ?? {}), ...(cfg?.scope === "shared" ? {} : taskLabels(spec, ctx)) },
          },
          { signal },
        );
      }
    },

    containerOverrides() {
      return {};
    },

    async release(spec) {
      for (const v of spec.volumes) {
        if (!v.name || v.host?.sourcePath || v.dockerVolumeConfiguration?.scope === "shared") continue;
        try {
          await docker.removeVolume(dockerVolumeName(spec.taskId, v), { signal });
        } catch (err) {
          if (!isDockerError(err, "not-found")) throw err;
        }
      }
    },
  };
}
