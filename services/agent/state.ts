import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ContainerObserved } from "../../events/agent.ts";
import { TaskRuntimeSpec } from "../../events/task.events.ts";

/**
 * What the agent keeps on its own disk (`dataDir`), so a restart behaves like the run before it:
 *
 *   <dataDir>/agent-<name>.json            the registered instance (re-registered on restart)
 *   <dataDir>/agent-<name>/tasks/<id>.json one record per task the agent has been asked to run
 *
 * The task record is what lets the agent keep ECS's promise that a task's containers are never
 * started twice (only a restartPolicy restarts one, in place): once a container was started, a
 * later StartTask (a redelivered directive, or a sync after a restart) reports it instead of
 * starting it again, even after the container is removed. Secret values are never part of it.
 */

export const InstanceState = z.object({
  region: z.string(),
  cluster: z.string(),
  instanceId: z.string(),
  containerInstanceArn: z.string().optional(),
});
export type InstanceState = z.infer<typeof InstanceState>;

export const ContainerRecord = z.object({
  runtimeId: z.string().optional(),
  /** Set once Docker started the container: from then on it is never started again. */
  started: z.boolean().optional(),
  pullStartedAt: z.number().optional(),
  pullStoppedAt: z.number().optional(),
  /** The last STOPPED observation published for it, acknowledged by JetStream. */
  stopped: ContainerObserved.optional(),
  /** Restarts in place under the definition's restartPolicy (restart-policy.ts). */
  restartCount: z.number().int().optional(),
  lastRestartAt: z.number().optional(),
});
export type ContainerRecord = z.infer<typeof ContainerRecord>;

export const TaskRecord = z.object({
  taskArn: z.string(),
  taskId: z.string(),
  spec: TaskRuntimeSpec.optional(),
  stopRequested: z.boolean().optional(),
  /** Containers (and task network/volumes) removed: nothing of the task is left on the host. */
  removed: z.boolean().optional(),
  /** When every container was found stopped: the containers are removed a cleanup wait after. */
  stoppedAt: z.number().optional(),
  containers: z.record(z.string(), ContainerRecord),
  /** awsvpc: the task's network attachment, once its network and pause container exist. */
  attachment: z
    .object({
      attachmentId: z.string(),
      networkName: z.string(),
      privateIPv4Address: z.string().optional(),
      macAddress: z.string().optional(),
    })
    .optional(),
  updatedAt: z.number(),
});
export type TaskRecord = z.infer<typeof TaskRecord>;

async function writeAtomic(path: string, data: unknown): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(data), { flush: true });
  await rename(tmp, path);
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export class AgentStateStore {
  /** The saved registration: region, cluster and the instance id the agent registers with. */
  readonly instanceFile: string;
  private readonly tasksDir: string;

  constructor(dataDir: string, name: string) {
    this.instanceFile = join(dataDir, `agent-${name}.json`);
    this.tasksDir = join(dataDir, `agent-${name}`, "tasks");
  }

  async init(): Promise<void> {
    await mkdir(this.tasksDir, { recursive: true });
  }

  async loadInstance(): Promise<InstanceState | undefined> {
    const raw = await readJson(this.instanceFile);
    const parsed = InstanceState.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  }

  saveInstance(s: InstanceState): Promise<void> {
    return writeAtomic(this.instanceFile, s);
  }

  private taskFile(taskId: string) {
    return join(this.tasksDir, `${taskId}.json`);
  }

  async loadTask(taskId: string): Promise<TaskRecord | undefined> {
    const parsed = TaskRecord.safeParse(await readJson(this.taskFile(taskId)));
    return parsed.success ? parsed.data : undefined;
  }

  saveTask(r: TaskRecord): Promise<void> {
    return writeAtomic(this.taskFile(r.taskId), r);
  }

  async deleteTask(taskId: string): Promise<void> {
    await rm(this.taskFile(taskId), { force: true });
  }

  async listTasks(): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const f of await readdir(this.tasksDir)) {
      if (!f.endsWith(".json")) continue;
      const r = await this.loadTask(f.slice(0, -5));
      if (r) out.push(r);
    }
    return out;
  }
}
