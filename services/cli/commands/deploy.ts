import { type Service, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, printJson, target } from "../client.ts";
import { progressFor } from "../progress.ts";
import { definitionOf, table } from "../table.ts";
import { seenEvents, timeoutHelp, timeoutMs, timeoutOption, watchDeployment } from "./wait.ts";

function printDeployments(s: Service): void {
  const rows = (s.deployments ?? []).map((d) => [
    d.id ?? "?",
    d.status ?? "?",
    definitionOf(d.taskDefinition),
    String(d.desiredCount ?? 0),
    String(d.runningCount ?? 0),
    String(d.pendingCount ?? 0),
    String(d.failedTasks ?? 0),
    d.rolloutState ?? "-",
  ]);
  console.log(table(["DEPLOYMENT", "STATUS", "DEFINITION", "DESIRED", "RUNNING", "PENDING", "FAILED", "ROLLOUT"], rows));
}

export const deployCommand: CommandSpec = {
  name: "deploy",
  summary: "start a deployment of a service (new task definition or forced); with --wait, follow its rollout",
  usage: "berth deploy <service> (--task-definition X | --force) [--wait] [options]",
  options: {
    ...connectionOptions,
    ...timeoutOption,
    "task-definition": { type: "string", short: "t" },
    force: { type: "boolean" },
    wait: { type: "boolean", short: "w" },
  },
  allowPositionals: true,
  help: [
    ["-t, --task-definition X", "family (latest ACTIVE revision), family:revision or ARN to deploy"],
    ["--force", "start a new deployment even with the same task definition (forceNewDeployment)"],
    ["-w, --wait", "follow the rollout until COMPLETED (exit 0) or FAILED (exit 1)"],
    timeoutHelp,
    ...connectionHelp,
  ],
  examples: ["berth deploy web --task-definition web:4 --wait", "berth deploy web --force --wait --timeout 300"],
  async run(v, positionals) {
    if (positionals.length !== 1) throw new UsageError("name exactly one service");
    const service = positionals[0] as string;
    const taskDefinition = v["task-definition"] === undefined ? undefined : String(v["task-definition"]);
    if (!taskDefinition && !v.force) throw new UsageError("say what to deploy: --task-definition X, or --force to redeploy the current one");
    const waitMs = timeoutMs(v);
    const t = target(v);
    const ecs = ecsClient(t);
    const out = await ecs.send(
      new UpdateServiceCommand({
        cluster: t.cluster,
        service,
        ...(taskDefinition ? { taskDefinition } : {}),
        ...(v.force ? { forceNewDeployment: true } : {}),
      }),
    );
    let s = out.service;
    const primary = s?.deployments?.find((d) => d.status === "PRIMARY");
    if (!v.wait || !s || !primary?.id) {
      if (v.json) printJson(out);
      else if (s) printDeployments(s);
      return 0;
    }
    const progress = progressFor(Boolean(v.json));
    progress.log(`Deploying ${definitionOf(primary.taskDefinition)} to ${service} as ${primary.id}`);
    const outcome = await watchDeployment(ecs, t, service, primary.id, seenEvents([s]), progress, waitMs);
    progress.done();
    s = outcome.ok ? outcome.value : (outcome.last ?? s);
    if (v.json) printJson({ service: s });
    else printDeployments(s);
    if (!outcome.ok) {
      console.error(`berth deploy: ${outcome.reason}`);
      return 1;
    }
    if (!v.json) console.log(`Deployment ${primary.id} COMPLETED.`);
    return 0;
  },
};
