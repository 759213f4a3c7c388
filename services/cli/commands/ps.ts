import { DescribeTasksCommand, type DesiredStatus, type ECSClient, paginateListTasks, type Task } from "@aws-sdk/client-ecs";
import type { CommandSpec } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, type Failure, failureText, printJson, type Target, target } from "../client.ts";
import { byNewest, TASK_HEADERS, table, taskRow } from "../table.ts";

export interface TaskFilter {
  serviceName?: string;
  family?: string;
  all?: boolean;
}

/** The family in a task definition ARN (`…:task-definition/<family>:<revision>`). */
const familyOf = (taskDefinitionArn: string | undefined) => taskDefinitionArn?.split("/").pop()?.split(":")[0];

/**
 * Every task of the cluster matching the filter, described (ListTasks pages, DescribeTasks by
 * 100). ListTasks takes a service or a family, not both (as ECS): with both, the service's tasks
 * are listed and those of other families left out.
 */
export async function listTasks(ecs: ECSClient, t: Target, f: TaskFilter): Promise<{ tasks: Task[]; failures: Failure[] }> {
  const statuses: DesiredStatus[] = f.all ? ["RUNNING", "PENDING", "STOPPED"] : ["RUNNING"];
  const arns: string[] = [];
  const by = f.serviceName ? { serviceName: f.serviceName } : f.family ? { family: f.family } : {};
  for (const desiredStatus of statuses) {
    const pages = paginateListTasks({ client: ecs }, { cluster: t.cluster, desiredStatus, ...by });
    for await (const page of pages) arns.push(...(page.taskArns ?? []));
  }
  const tasks: Task[] = [];
  const failures: Failure[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster: t.cluster, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(out.tasks ?? []).filter((task) => !f.serviceName || !f.family || familyOf(task.taskDefinitionArn) === f.family));
    failures.push(...(out.failures ?? []));
  }
  return { tasks: byNewest(tasks), failures };
}

export function printTasks(tasks: Task[], now = Date.now()): void {
  if (tasks.length === 0) {
    console.log("No tasks.");
    return;
  }
  console.log(table(TASK_HEADERS, tasks.map((task) => taskRow(task, now))));
}

function psSpec(name: string, summary: string): CommandSpec {
  return {
    name,
    summary,
    usage: `berth ${name} [--all] [--service NAME] [--family NAME] [options]`,
    options: {
      ...connectionOptions,
      all: { type: "boolean", short: "a" },
      service: { type: "string" },
      family: { type: "string" },
    },
    help: [
      ["-a, --all", "include STOPPED tasks (ECS keeps them listed for a while after they stop)"],
      ["--service NAME", "only the tasks of this service"],
      ["--family NAME", "only tasks of this task definition family"],
      ...connectionHelp,
    ],
    examples: [`berth ${name}`, `berth ${name} --all --service web`, `berth ${name} --json | jq -r '.tasks[].taskArn'`],
    async run(v) {
      const t = target(v);
      const ecs = ecsClient(t);
      const out = await listTasks(ecs, t, {
        all: Boolean(v.all),
        serviceName: v.service === undefined ? undefined : String(v.service),
        family: v.family === undefined ? undefined : String(v.family),
      });
      if (v.json) printJson(out);
      else printTasks(out.tasks);
      if (out.failures.length) {
        console.error(`berth ${name}: ${failureText(out.failures)}`);
        return 1;
      }
      return 0;
    },
  };
}

export const psCommand = psSpec("ps", "list the cluster's tasks: id, definition, last/desired status, health, start, instance");
export const tasksCommand = psSpec("tasks", "the same as `berth ps`");
