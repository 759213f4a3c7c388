import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { eniAttachmentId } from "../../machines/task/task.eni.ts";
import { ContainerConfigError, dockerVolumeName, taskLabels } from "./container-config.ts";
import { type DockerPort, isDockerError } from "./docker/port.ts";

/**
 * Task-level Docker resources, created before the task's first container and removed at cleanup:
 *
 *  - volumes: task-scoped Docker volumes (and ECS's "host without sourcePath") per task; shared
 *    volumes created once (when `autoprovision`) and never removed by the agent;
 *  - awsvpc: the task's own network (a Docker bridge network `berth-task-<taskId>`) and a pause
 *    container holding the task's network namespace; every container of the task joins it
 *    (`container:<pause>`), so they share one private IP and localhost, as on an ENI.
 *
 * Every call is idempotent: a retried StartTask finds what exists.
 */

export interface TaskAttachment {
  attachmentId: string;
  networkName: string;
  privateIPv4Address?: string;
  macAddress?: string;
}

export interface TaskResources {
  /** Returns the awsvpc attachment when the task has one. */
  prepare(spec: TaskRuntimeSpec): Promise<TaskAttachment | undefined>;
  /** Extra create options every container of the task needs (the awsvpc network namespace). */
  containerOverrides(spec: TaskRuntimeSpec): { networkMode?: string };
  /** Removes task-scoped volumes, the pause container and the task network. */
  /** The awsvpc task network and its pause container: given back as soon as the task stopped. */
  releaseNetwork(spec: TaskRuntimeSpec): Promise<void>;
  /** Task-scoped volumes: once the containers using them are removed (Docker refuses before). */
  releaseVolumes(spec: TaskRuntimeSpec): Promise<void>;
}

export interface PauseContainer {
  image: string;
  command?: string[];
}

/**
 * The pause image `scripts/setup.sh` builds locally from Debian's busybox-static (it sleeps
 * forever, holding the task's network namespace); another can be configured (AgentOptions.pauseContainer).
 */
export const DEFAULT_PAUSE: PauseContainer = { image: "berth/pause:1" };

/** Docker names allow '.', ECS container names do not: no task container can collide with these. */
export const pauseContainerName = (taskId: string) => `berth-${taskId}.pause`;
export const taskNetworkName = (taskId: string) => `berth-task-${taskId}`;

export function taskResources(
  docker: DockerPort,
  ctx: { instanceId: string; cluster: string; pause?: PauseContainer },
  signal: AbortSignal,
): TaskResources {
  const pause = ctx.pause ?? DEFAULT_PAUSE;

  async function prepareVolumes(spec: TaskRuntimeSpec) {
    for (const v of spec.volumes) {
      if (!v.name || v.host?.sourcePath) continue;
      const cfg = v.dockerVolumeConfiguration;
      const name = dockerVolumeName(spec.taskId, v);
      try {
        await docker.inspectVolume(name, { signal });
        continue;
      } catch (err) {
        if (!isDockerError(err, "not-found")) throw err;
      }
      // ECS: a missing shared volume is created only when autoprovision is set.
      if (cfg?.scope === "shared" && !cfg.autoprovision) {
        throw new ContainerConfigError(`shared volume ${name} does not exist and autoprovision is false`);
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
  }

  async function prepareNetwork(spec: TaskRuntimeSpec): Promise<TaskAttachment> {
    const networkName = taskNetworkName(spec.taskId);
    try {
      await docker.createNetwork(networkName, taskLabels(spec, ctx), { signal });
    } catch (err) {
      if (!(isDockerError(err, "terminal") && err.statusCode === 409)) throw err; // already there
    }
    const name = pauseContainerName(spec.taskId);
    let id: string;
    try {
      id = (await docker.inspectContainer(name, { signal })).id;
    } catch (err) {
      if (!isDockerError(err, "not-found")) throw err;
      id = (
        await docker.createContainer(
          {
            name,
            Image: pause.image,
            ...(pause.command ? { Cmd: pause.command } : {}),
            Labels: { ...taskLabels(spec, ctx), "berth.pause": "true" },
            HostConfig: { NetworkMode: networkName, CpuShares: 2 },
          },
          { signal },
        )
      ).id;
    }
    await docker.startContainer(id, { signal });
    const info = await docker.inspectContainer(id, { signal });
    const net = info.networks[networkName];
    return {
      // The id the control plane announced the interface under when it created the task.
      attachmentId: eniAttachmentId(spec.taskId),
      networkName,
      ...(net?.ipAddress ? { privateIPv4Address: net.ipAddress } : {}),
      ...(net?.macAddress ? { macAddress: net.macAddress } : {}),
    };
  }

  return {
    async prepare(spec) {
      await prepareVolumes(spec);
      return spec.networkMode === "awsvpc" ? prepareNetwork(spec) : undefined;
    },

    containerOverrides(spec) {
      return spec.networkMode === "awsvpc" ? { networkMode: `container:${pauseContainerName(spec.taskId)}` } : {};
    },

    async releaseNetwork(spec) {
      if (spec.networkMode !== "awsvpc") return;
      await docker.removeContainer(pauseContainerName(spec.taskId), { force: true, signal });
      await docker.removeNetwork(taskNetworkName(spec.taskId), { signal });
    },
    async releaseVolumes(spec) {
      for (const v of spec.volumes) {
        if (!v.name || v.host?.sourcePath || v.dockerVolumeConfiguration?.scope === "shared") continue;
        await docker.removeVolume(dockerVolumeName(spec.taskId, v), { signal });
      }
    },
  };
}
