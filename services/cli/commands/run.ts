import { type LaunchType, RunTaskCommand } from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, failureText, intOption, printJson, target } from "../client.ts";
import { progressFor } from "../progress.ts";
import { printTasks } from "./ps.ts";
import { timeoutHelp, timeoutMs, timeoutOption, waitTasks } from "./wait.ts";

/** RunTask starts at most ten tasks per call. */
const MAX_RUN_COUNT = 10;

export const runCommand: CommandSpec = {
  name: "run",
  summary: "run tasks from a task definition (RunTask), optionally waiting until they run",
  usage: "berth run <family[:revision]|task-definition-arn> [--count N] [--wait] [options]",
  options: {
    ...connectionOptions,
    ...timeoutOption,
    count: { type: "string", short: "n" },
    wait: { type: "boolean", short: "w" },
    "started-by": { type: "string" },
    group: { type: "string" },
    "launch-type": { type: "string" },
  },
  allowPositionals: true,
  help: [
    ["-n, --count N", `how many tasks (1-${MAX_RUN_COUNT}, RunTask's limit; default 1)`],
    ["-w, --wait", "wait until every task is RUNNING; exit code 1 if one stops first"],
    timeoutHelp,
    ["--started-by TAG", "startedBy of the tasks (up to 128 characters)"],
    ["--group NAME", "task group (default family:<family>)"],
    ["--launch-type T", "EC2 (default) or FARGATE"],
    ...connectionHelp,
  ],
  examples: ["berth run web", "berth run web:3 --count 2 --wait", "berth run sleeper --json | jq -r '.tasks[0].taskArn'"],
  async run(v, positionals) {
    const [taskDefinition, ...extra] = positionals;
    if (!taskDefinition) throw new UsageError("name the task definition to run: <family> or <family>:<revision>");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const launchType = v["launch-type"] === undefined ? undefined : String(v["launch-type"]).toUpperCase();
    if (launchType !== undefined && launchType !== "EC2" && launchType !== "FARGATE") throw new UsageError("--launch-type takes EC2 or FARGATE");
    // Every option is checked before anything is asked of the API.
    const count = intOption(v.count, "--count", 1, 1, MAX_RUN_COUNT);
    const waitMs = timeoutMs(v);
    const t = target(v);
    const ecs = ecsClient(t);
    const out = await ecs.send(
      new RunTaskCommand({
        cluster: t.cluster,
        taskDefinition,
        count,
        ...(v["started-by"] !== undefined ? { startedBy: String(v["started-by"]) } : {}),
        ...(v.group !== undefined ? { group: String(v.group) } : {}),
        ...(launchType ? { launchType: launchType as LaunchType } : {}),
      }),
    );
    const failures = out.failures ?? [];
    let tasks = out.tasks ?? [];
    let waitFailed: string | undefined;
    if (v.wait && tasks.length) {
      const progress = progressFor(Boolean(v.json));
      const outcome = await waitTasks(ecs, t, tasks.map((x) => x.taskArn ?? ""), "RUNNING", progress, waitMs);
      progress.done();
      if (outcome.ok) tasks = outcome.value;
      else {
        // What the wait last saw (a task stopped), not RunTask's answer from before it started.
        if (outcome.last) tasks = outcome.last;
        waitFailed = outcome.reason;
      }
    }
    if (v.json) printJson({ ...out, tasks });
    else if (tasks.length) printTasks(tasks);
    if (failures.length) console.error(`berth run: ${tasks.length ? "some tasks were not placed" : "no task was placed"}: ${failureText(failures)}`);
    if (waitFailed) console.error(`berth run: ${waitFailed}`);
    return failures.length || waitFailed ? 1 : 0;
  },
};
