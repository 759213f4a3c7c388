import { type ContainerInstance, type ContainerInstanceStatus, DescribeContainerInstancesCommand, paginateListContainerInstances } from "@aws-sdk/client-ecs";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectionHelp, connectionOptions, ecsClient, type Failure, failureText, printJson, target } from "../client.ts";
import { INSTANCE_HEADERS, instanceRow, table } from "../table.ts";

export function printInstances(instances: ContainerInstance[]): void {
  if (instances.length === 0) console.log("No container instances.");
  else console.log(table(INSTANCE_HEADERS, instances.map(instanceRow)));
}

const STATUSES = ["ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"];

export const instancesCommand: CommandSpec = {
  name: "instances",
  summary: "list the cluster's container instances: status, agent, free CPU and memory, tasks",
  usage: "berth instances [--status S] [--filter CQL] [options]",
  options: { ...connectionOptions, status: { type: "string" }, filter: { type: "string" } },
  help: [
    ["--status S", `only instances in this status (${STATUSES.join(", ")}); default: ACTIVE and DRAINING`],
    ["--filter CQL", "cluster query language expression, e.g. 'attribute:ecs.os-type == linux'"],
    ...connectionHelp,
  ],
  examples: ["berth instances", "berth instances --status DRAINING --json"],
  async run(v) {
    const status = v.status === undefined ? undefined : String(v.status).toUpperCase();
    if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`--status takes one of ${STATUSES.join(", ")}`);
    const t = target(v);
    const ecs = ecsClient(t);
    const arns: string[] = [];
    const pages = paginateListContainerInstances(
      { client: ecs },
      { cluster: t.cluster, ...(status ? { status: status as ContainerInstanceStatus } : {}), ...(v.filter !== undefined ? { filter: String(v.filter) } : {}) },
    );
    for await (const page of pages) arns.push(...(page.containerInstanceArns ?? []));
    const containerInstances: ContainerInstance[] = [];
    const failures: Failure[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster: t.cluster, containerInstances: arns.slice(i, i + 100) }));
      containerInstances.push(...(out.containerInstances ?? []));
      failures.push(...(out.failures ?? []));
    }
    if (v.json) printJson({ containerInstances, failures });
    else printInstances(containerInstances);
    if (failures.length) {
      console.error(`berth instances: ${failureText(failures)}`);
      return 1;
    }
    return 0;
  },
};
