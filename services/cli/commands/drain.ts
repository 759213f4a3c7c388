import { UpdateContainerInstancesStateCommand } from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, failureText, printJson, target } from "../client.ts";
import { printInstances } from "./instances.ts";

export const drainCommand: CommandSpec = {
  name: "drain",
  summary: "set container instances DRAINING (service tasks move elsewhere, nothing new is placed); --undo sets them ACTIVE",
  usage: "berth drain <instance-id|arn>... [--undo] [options]",
  options: { ...connectionOptions, undo: { type: "boolean" } },
  allowPositionals: true,
  help: [["--undo", "set the instances ACTIVE again"], ...connectionHelp],
  examples: ["berth drain 5d3c0f8e9a7b4e21b6c4d2a1f0e9d8c7", "berth drain 5d3c0f8e9a7b4e21b6c4d2a1f0e9d8c7 --undo"],
  async run(v, positionals) {
    if (positionals.length === 0) throw new UsageError("name at least one container instance (its id or ARN)");
    const t = target(v);
    const out = await ecsClient(t).send(
      new UpdateContainerInstancesStateCommand({ cluster: t.cluster, containerInstances: positionals, status: v.undo ? "ACTIVE" : "DRAINING" }),
    );
    if (v.json) printJson(out);
    else if (out.containerInstances?.length) printInstances(out.containerInstances);
    if (out.failures?.length) {
      const missing = out.failures.filter((f) => f.reason === "MISSING");
      const hint = missing.length
        ? ` (no such container instance in cluster ${t.cluster}: \`berth instances\` lists them, --cluster picks another)`
        : "";
      console.error(`berth drain: ${failureText(out.failures)}${hint}`);
      return 1;
    }
    return 0;
  },
};
