import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { type DesiredTask, labels, SyncReply, type SyncRequest } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { type DockerPort, isDockerError } from "./docker/port.ts";
import { retry } from "./retry.ts";
import type { AgentStateStore } from "./state.ts";
import type { TaskRunner } from "./task-runner.ts";

/** Asks the control plane for every task placed on this instance; retries until answered. */
export async function fetchDesired(
  nc: NatsConnection,
  region: string,
  req: SyncRequest,
  log: Logger,
  signal: AbortSignal,
): Promise<DesiredTask[]> {
  return retry(
    async () => {
      const m = await nc.request(subjects.sync(region, req.instanceId), JSON.stringify(req), { timeout: 10_000 });
      const r = SyncReply.parse(m.json());
      if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
      return r.tasks;
    },
    {
      signal,
      maxDelayMs: 15_000,
      onError: (err, attempt) => log.warn({ err, attempt }, "sync not answered; retrying"),
    },
  );
}

export interface ReconcilePlan {
  /** Desired RUNNING: adopt what runs, report what exited, start only what never ran. */
  run: DesiredTask[];
  /** Desired STOPPED: stop whatever still runs and report every container. */
  stop: DesiredTask[];
  /** Containers of tasks the control plane does not list: stop and remove them. */
  orphans: { taskArn: string; taskId: string; containers: string[] }[];
  /** Local records of tasks neither listed nor present in Docker: forget them. */
  forget: { taskArn: string; taskId: string }[];
}

/** Pure: desired tasks × this agent's containers × its local records → what to do. */
export function planReconcile(
  desired: DesiredTask[],
  containers: { labels: Record<string, string> }[],
  records: { taskArn: string; taskId: string }[],
): ReconcilePlan {
  const listed = new Set(desired.map((t) => t.taskArn));
  const present = new Map<string, { taskId: string; containers: string[] }>();
  for (const c of containers) {
    const arn = c.labels[labels.taskArn];
    const taskId = c.labels[labels.taskId];
    if (!arn || !taskId) continue;
    const entry = present.get(arn) ?? { taskId, containers: [] };
    const name = c.labels[labels.containerName];
    if (name) entry.containers.push(name); // the awsvpc pause container has none
    present.set(arn, entry);
  }
  return {
    run: desired.filter((t) => t.desiredStatus === "RUNNING"),
    stop: desired.filter((t) => t.desiredStatus === "STOPPED"),
    orphans: [...present.entries()]
      .filter(([arn]) => !listed.has(arn))
      .map(([taskArn, e]) => ({ taskArn, taskId: e.taskId, containers: e.containers })),
    forget: records.filter((r) => !listed.has(r.taskArn) && !present.has(r.taskArn)),
  };
}

/**
 * Converges this host with the control plane's view after a (re)start or a lost event stream:
 * every task is handed to the TaskRunner, whose start/stop are idempotent, so reconcile only has to
 * say which tasks to look at and what the control plane wants for each. Resolves once every step
 * is queued; `done` resolves when they have all run.
 */
export async function reconcile(d: {
  desired: DesiredTask[];
  docker: DockerPort;
  store: AgentStateStore;
  runner: TaskRunner;
  instanceId: string;
  cluster: string;
  log: Logger;
  signal: AbortSignal;
}): Promise<{ done: Promise<void> }> {
  const containers = await d.docker.listContainers(
    [`${labels.instanceId}=${d.instanceId}`, `${labels.cluster}=${d.cluster}`],
    { signal: d.signal },
  );
  const plan = planReconcile(d.desired, containers, await d.store.listTasks());
  d.log.info(
    { run: plan.run.length, stop: plan.stop.length, orphans: plan.orphans.length, forget: plan.forget.length },
    "reconciling with the control plane",
  );
  // A step that fails because Docker is unreachable is retried; anything else is logged below.
  const step = (fn: () => Promise<void>) =>
    retry(fn, { signal: d.signal, retriable: (err) => isDockerError(err, "retriable") });
  const work: Promise<void>[] = [
    ...plan.run.map((t) => step(() => d.runner.start(t.spec))),
    ...plan.stop.map((t) =>
      step(() =>
        d.runner.stop({
          taskArn: t.taskArn,
          taskId: t.spec.taskId,
          reason: "Task desired STOPPED",
          containers: t.spec.containers.map((c) => c.name),
        }),
      ),
    ),
    ...plan.orphans.map((o) =>
      step(() =>
        d.runner.stop({
          taskArn: o.taskArn,
          taskId: o.taskId,
          reason: "Task unknown to the control plane",
          containers: o.containers,
        }),
      ),
    ),
    ...plan.forget.map((f) => d.runner.forget(f.taskArn, f.taskId)),
  ];
  // Every step is queued on its task by now; directives consumed from here on run after it.
  const done = Promise.allSettled(work).then((results) => {
    for (const r of results) {
      if (r.status === "rejected")
        d.log.error({ err: r.reason }, "reconcile step failed; the next directive or restart retries it");
    }
  });
  return { done };
}
