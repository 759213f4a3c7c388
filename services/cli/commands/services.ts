import { DescribeServicesCommand, type ECSClient, paginateListServices, type Service } from "@aws-sdk/client-ecs";
import type { CommandSpec } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, type Failure, failureText, printJson, type Target, target } from "../client.ts";
import { SERVICE_HEADERS, serviceRow, table } from "../table.ts";

/** Every ACTIVE service of the cluster, described (ListServices pages, DescribeServices by 10). */
export async function listServices(ecs: ECSClient, t: Target): Promise<{ services: Service[]; failures: Failure[] }> {
  const arns: string[] = [];
  for await (const page of paginateListServices({ client: ecs }, { cluster: t.cluster })) arns.push(...(page.serviceArns ?? []));
  const services: Service[] = [];
  const failures: Failure[] = [];
  for (let i = 0; i < arns.length; i += 10) {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: t.cluster, services: arns.slice(i, i + 10) }));
    services.push(...(out.services ?? []));
    failures.push(...(out.failures ?? []));
  }
  services.sort((a, b) => (a.serviceName ?? "").localeCompare(b.serviceName ?? ""));
  return { services, failures };
}

export function printServices(services: Service[]): void {
  if (services.length === 0) console.log("No services.");
  else console.log(table(SERVICE_HEADERS, services.map(serviceRow)));
}

export const servicesCommand: CommandSpec = {
  name: "services",
  summary: "list the cluster's services: desired/running/pending counts, deployments, rollout state",
  usage: "berth services [options]",
  options: { ...connectionOptions },
  help: [...connectionHelp],
  examples: ["berth services", "berth services --cluster prod --json"],
  async run(v) {
    const t = target(v);
    const out = await listServices(ecsClient(t), t);
    if (v.json) printJson(out);
    else printServices(out.services);
    if (out.failures.length) {
      console.error(`berth services: ${failureText(out.failures)}`);
      return 1;
    }
    return 0;
  },
};
