import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  type Service,
  type Task,
} from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, type Failure, failureText, idOf, intOption, printJson, type Target, target } from "../client.ts";
import { type Outcome, type Progress, progressFor, watch } from "../progress.ts";
import { deploymentSummary, toDate } from "../table.ts";

/** How long a wait lasts unless --timeout says otherwise: the AWS CLI's ECS waiters give up after 10 minutes too. */
export const DEFAULT_WAIT_S = 600;

export const timeoutOption = { timeout: { type: "string" } } as const;
export const timeoutHelp: [string, string] = ["--timeout S", `give up waiting after S seconds (default ${DEFAULT_WAIT_S}); exit code 1`];

export const timeoutMs = (v: Record<string, unknown>) => intOption(v.timeout, "--timeout", DEFAULT_WAIT_S) * 1000;

async function describeTasks(ecs: ECSClient, t: Target, arns: string[]): Promise<{ tasks: Task[]; failures: Failure[] }> {
  const tasks: Task[] = [];
  const failures: Failure[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster: t.cluster, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(out.tasks ?? []));
    failures.push(...(out.failures ?? []));
  }
  return { tasks, failures };
}

function countByStatus(tasks: Task[]): string {
  const counts = new Map<string, number>();
  for (const task of tasks) counts.set(task.lastStatus ?? "?", (counts.get(task.lastStatus ?? "?") ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(", ");
}

/**
 * Waits until every task is RUNNING (failing as soon as one STOPPED: it will never run) or every
 * task is STOPPED. A task the API does not know fails the wait.
 */
export function waitTasks(ecs: ECSClient, t: Target, arns: string[], goal: "RUNNING" | "STOPPED", progress: Progress, ms: number): Promise<Outcome<Task[]>> {
  return watch(
    progress,
    async () => {
      const { tasks, failures } = await describeTasks(ecs, t, arns);
      const status = `tasks: ${countByStatus(tasks) || "none"} (waiting for ${arns.length} ${goal})`;
      if (failures.length) return { status, failed: failureText(failures) };
      if (goal === "RUNNING") {
        const stopped = tasks.find((task) => task.lastStatus === "STOPPED");
        if (stopped)
          return {
            status,
            failed: `task ${idOf(stopped.taskArn)} stopped: ${stopped.stoppedReason ?? stopped.stopCode ?? "no reason given"}`,
            last: tasks,
          };
      }
      return tasks.every((task) => task.lastStatus === goal) ? { status, done: tasks } : { status };
    },
    { timeoutMs: ms, what: `tasks ${goal}` },
  );
}

const clock = (at: Date | undefined) => (at ? at.toISOString().slice(11, 19) : "--:--:--");

/** Prints the service's event messages not seen before, oldest first; remembers them. */
export function printNewEvents(progress: Progress, service: Service, seen: Set<string>): void {
  const fresh = (service.events ?? []).filter((e) => e.id && !seen.has(e.id)).reverse();
  for (const e of fresh) {
    seen.add(e.id as string);
    progress.log(`${clock(toDate(e.createdAt))}  ${brief(e.message ?? "")}`);
  }
}

/** Task lists shown in full in a service event, at most; the rest are counted. */
const LISTED_TASKS = 3;

/**
 * A service event for a terminal line: ECS's "has started 500 tasks: (task a) (task b) …" names
 * every task; past the first few, the rest are counted ("… and 497 more").
 */
export function brief(message: string): string {
  const tasks = message.match(/ \(task [^)]*\)/g);
  if (!tasks || tasks.length <= LISTED_TASKS) return message;
  const cut = message.indexOf(tasks[LISTED_TASKS] as string);
  const end = message.lastIndexOf(tasks[tasks.length - 1] as string) + (tasks[tasks.length - 1] as string).length;
  return `${message.slice(0, cut)} … and ${tasks.length - LISTED_TASKS} more${message.slice(end)}`;
}

export const seenEvents = (services: Service[]) => new Set(services.flatMap((s) => (s.events ?? []).map((e) => e.id ?? "")));

/**
 * Waits until every service is steady: ACTIVE, one deployment, runningCount = desiredCount (the
 * AWS waiter's services-stable). Fails on a missing, draining or inactive service and on a
 * primary deployment whose rollout FAILED (the circuit breaker gave up).
 */
export async function waitServicesStable(ecs: ECSClient, t: Target, names: string[], progress: Progress, ms: number): Promise<Outcome<Service[]>> {
  let seen: Set<string> | undefined;
  return watch(
    progress,
    async () => {
      const out = await ecs.send(new DescribeServicesCommand({ cluster: t.cluster, services: names }));
      const services = out.services ?? [];
      if (!seen) seen = seenEvents(services);
      else for (const s of services) printNewEvents(progress, s, seen);
      const status = services
        .map((s) => `${s.serviceName}: ${s.runningCount ?? 0}/${s.desiredCount ?? 0} running${s.pendingCount ? `, ${s.pendingCount} pending` : ""}, ${s.deployments?.length ?? 0} deployment(s)`)
        .join("; ");
      if (out.failures?.length) return { status, failed: failureText(out.failures) };
      for (const s of services) {
        if (s.status !== "ACTIVE") return { status, failed: `service ${s.serviceName} is ${s.status}` };
        const primary = s.deployments?.find((d) => d.status === "PRIMARY");
        if (primary?.rolloutState === "FAILED") return { status, failed: `service ${s.serviceName}: ${primary.rolloutStateReason ?? "rollout FAILED"}` };
      }
      const steady = services.every((s) => s.deployments?.length === 1 && s.runningCount === s.desiredCount);
      return steady ? { status, done: services } : { status };
    },
    { timeoutMs: ms, what: `${names.join(", ")} to be stable` },
  );
}

/**
 * Follows one deployment of a service until its rollout is COMPLETED or FAILED: every deployment
 * with its counts on the status line, new service events above it.
 */
export function watchDeployment(ecs: ECSClient, t: Target, service: string, deploymentId: string, seen: Set<string>, progress: Progress, ms: number): Promise<Outcome<Service>> {
  return watch(
    progress,
    async () => {
      const out = await ecs.send(new DescribeServicesCommand({ cluster: t.cluster, services: [service] }));
      const s = out.services?.[0];
      if (!s) return { status: `${service}: missing`, failed: failureText(out.failures ?? []) || `service ${service} not found` };
      printNewEvents(progress, s, seen);
      const deployments = s.deployments ?? [];
      const status = `${service}: ${deployments.map(deploymentSummary).join(" · ") || "no deployments"}`;
      const ours = deployments.find((d) => d.id === deploymentId);
      if (!ours) {
        // Gone from the service: replaced by a newer one (another deploy), or failed and rolled
        // back by the circuit breaker. Its record in the service's deployment history says which.
        const ended = await endedDeployment(ecs, t, service, deploymentId);
        if (ended?.status === "SUCCESSFUL") return { status, done: s };
        const why = ended ? `${ended.status}${ended.statusReason ? `: ${ended.statusReason}` : ""}` : "replaced before it completed";
        return { status, failed: `deployment ${deploymentId} ${why}`, last: s };
      }
      if (ours.rolloutState === "FAILED") return { status, failed: ours.rolloutStateReason ?? `deployment ${deploymentId} FAILED`, last: s };
      if (ours.rolloutState === "COMPLETED") return { status, done: s };
      return { status };
    },
    { timeoutMs: ms, what: `deployment ${deploymentId} to complete` },
  );
}

/** A deployment's entry in the service's deployment history (ListServiceDeployments), if found. */
async function endedDeployment(
  ecs: ECSClient,
  t: Target,
  service: string,
  deploymentId: string,
): Promise<{ status: string; statusReason?: string } | undefined> {
  const number = deploymentId.split("/").pop() as string;
  try {
    const out = await ecs.send(new ListServiceDeploymentsCommand({ cluster: t.cluster, service, maxResults: 20 }));
    const found = out.serviceDeployments?.find((d) => d.serviceDeploymentArn?.endsWith(`/${number}`));
    return found?.status ? { status: found.status, ...(found.statusReason ? { statusReason: found.statusReason } : {}) } : undefined;
  } catch {
    return undefined; // the history cannot be read: the wait says the deployment was replaced
  }
}

/** The AWS CLI's waiter names (`aws ecs wait services-stable`…). */
const KINDS = ["services-stable", "tasks-running", "tasks-stopped"] as const;
/** Earlier spellings, still understood. */
const ALIASES: Record<string, (typeof KINDS)[number]> = { "service-stable": "services-stable" };

export const waitCommand: CommandSpec = {
  name: "wait",
  summary: "wait until services are stable or tasks are running or stopped, showing progress",
  usage: "berth wait <services-stable|tasks-running|tasks-stopped> <name-or-id>... [--timeout S] [options]",
  options: { ...connectionOptions, ...timeoutOption },
  allowPositionals: true,
  help: [
    ["services-stable SVC…", "every service ACTIVE with one deployment and runningCount = desiredCount"],
    ["tasks-running TASK…", "every task RUNNING (fails as soon as one stops)"],
    ["tasks-stopped TASK…", "every task STOPPED"],
    timeoutHelp,
    ...connectionHelp,
  ],
  examples: ["berth wait services-stable web --timeout 120", "berth wait tasks-stopped 0f8e2c…  # a task id or ARN"],
  async run(v, positionals) {
    const [said, ...names] = positionals;
    const kind = said === undefined ? undefined : (ALIASES[said] ?? KINDS.find((k) => k === said));
    if (!kind) throw new UsageError(`say what to wait for: ${KINDS.join(", ")}`);
    if (names.length === 0) throw new UsageError(`${kind} needs at least one ${kind === "services-stable" ? "service" : "task"}`);
    if (kind === "services-stable" && names.length > 10) throw new UsageError("services-stable takes at most 10 services (one DescribeServices call)");
    const t = target(v);
    const ecs = ecsClient(t);
    const progress = progressFor(Boolean(v.json));
    const outcome =
      kind === "services-stable"
        ? await waitServicesStable(ecs, t, names, progress, timeoutMs(v))
        : await waitTasks(ecs, t, names, kind === "tasks-running" ? "RUNNING" : "STOPPED", progress, timeoutMs(v));
    progress.done();
    if (!outcome.ok) {
      console.error(`berth wait: ${outcome.reason}`);
      return 1;
    }
    if (v.json) printJson(kind === "services-stable" ? { services: outcome.value } : { tasks: outcome.value });
    else console.log(`${kind}: done`);
    return 0;
  },
};
