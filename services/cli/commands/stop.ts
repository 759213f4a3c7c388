import { StopTaskCommand } from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, printJson, target } from "../client.ts";
import { progressFor } from "../progress.ts";
import { printTasks } from "./ps.ts";
import { timeoutHelp, timeoutMs, timeoutOption, waitTasks } from "./wait.ts";

export const stopCommand: CommandSpec = {
  name: "stop",
  summary: "stop a task (StopTask): its containers get SIGTERM, then SIGKILL after the stop timeout",
  usage: "berth stop <task-id|task-arn> [--reason TEXT] [--wait] [options]",
  options: { ...connectionOptions, ...timeoutOption, reason: { type: "string" }, wait: { type: "boolean", short: "w" } },
  allowPositionals: true,
  help: [["--reason TEXT", "stoppedReason shown by DescribeTasks (up to 255 characters)"], ["-w, --wait", "wait until the task is STOPPED"], timeoutHelp, ...connectionHelp],
  examples: ["berth stop 4f1c9a0e2b7d4c55a1e3f6b8d9c0e1f2 --reason 'rolling back by hand' --wait"],
  async run(v, positionals) {
    if (positionals.length !== 1) throw new UsageError("name exactly one task (its id or ARN)");
    const waitMs = timeoutMs(v);
    const t = target(v);
    const ecs = ecsClient(t);
    const out = await ecs.send(
      new StopTaskCommand({ cluster: t.cluster, task: positionals[0], ...(v.reason !== undefined ? { reason: String(v.reason) } : {}) }),
    );
    let task = out.task;
    if (v.wait && task?.taskArn) {
      const progress = progressFor(Boolean(v.json));
      const outcome = await waitTasks(ecs, t, [task.taskArn], "STOPPED", progress, waitMs);
      progress.done();
      if (!outcome.ok) {
        console.error(`berth stop: ${outcome.reason}`);
        return 1;
      }
      task = outcome.value[0] ?? task;
    }
    if (v.json) printJson({ ...out, task });
    else if (task) printTasks([task]);
    return 0;
  },
};
