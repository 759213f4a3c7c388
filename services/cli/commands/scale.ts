import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, intOption, printJson, target } from "../client.ts";
import { progressFor } from "../progress.ts";
import { printServices } from "./services.ts";
import { timeoutHelp, timeoutMs, timeoutOption, waitServicesStable } from "./wait.ts";

export const scaleCommand: CommandSpec = {
  name: "scale",
  summary: "set a service's desired count (UpdateService), optionally waiting until it is stable",
  usage: "berth scale <service> <count> [--wait] [options]",
  options: { ...connectionOptions, ...timeoutOption, wait: { type: "boolean", short: "w" } },
  allowPositionals: true,
  help: [["-w, --wait", "wait until runningCount = desiredCount with one deployment"], timeoutHelp, ...connectionHelp],
  examples: ["berth scale web 3 --wait", "berth scale web 0"],
  async run(v, positionals) {
    const [service, count, ...extra] = positionals;
    if (!service || count === undefined || extra.length) throw new UsageError("name the service and the new desired count: berth scale <service> <count>");
    const desiredCount = intOption(count, "<count>", 0, 0);
    const waitMs = timeoutMs(v);
    const t = target(v);
    const ecs = ecsClient(t);
    const out = await ecs.send(new UpdateServiceCommand({ cluster: t.cluster, service, desiredCount }));
    let updated = out.service;
    if (v.wait && updated) {
      const progress = progressFor(Boolean(v.json));
      const outcome = await waitServicesStable(ecs, t, [service], progress, waitMs);
      progress.done();
      if (!outcome.ok) {
        console.error(`berth scale: ${outcome.reason}`);
        return 1;
      }
      updated = outcome.value[0] ?? updated;
    }
    if (v.json) printJson({ ...out, service: updated });
    else if (updated) printServices([updated]);
    return 0;
  },
};
