import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeServiceRevisionsCommand, ListServiceDeploymentsCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AwsCliResult, awsCli } from "../support/aws-cli.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { TEST_IMAGE, uniqueName } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Berth through the AWS CLI v2 (/usr/bin/aws): file:// inputs, the CLI's own pagination
 * (--page-size, --max-items, --starting-token), its waiters, tagging, and its exit code 254 when
 * the service answers with an error.
 */

let b: BerthFixture;
let dir: string;
beforeAll(async () => {
  b = await startBerth("t-clis", ["--fargate"]); // its agent also offers FARGATE capacity, for the Fargate walk-through
  dir = mkdtempSync(join(tmpdir(), "berth-cli-suite-"));
});
afterAll(async () => {
  await b?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function aws(args: string[], timeoutMs = 60_000): Promise<AwsCliResult & { out: Record<string, unknown> }> {
  const r = await awsCli(["ecs", ...args], { endpoint: b.endpoint, cwd: dir, timeoutMs });
  expect(r.code, `aws ecs ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return { ...r, out: (r.json ?? {}) as Record<string, unknown> };
}

/** `aws ecs create-service` in the suite's cluster; `extra` are further options. */
const createService = (service: string, taskDefinition: string, desiredCount: number, ...extra: string[]) =>
  aws([
    ...["create-service", "--cluster", b.cluster, "--service-name", service, "--task-definition", taskDefinition],
    ...["--desired-count", String(desiredCount), ...extra],
  ]);

describe("the AWS CLI v2", () => {
  test("registers task definitions from file:// JSON and pages list calls with --page-size, --max-items and --starting-token", async () => {
    const family = uniqueName("cli-pages");
    writeFileSync(
      join(dir, "td.json"),
      JSON.stringify({
        family,
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 2 },
        ],
        tags: [{ key: "made-by", value: "cli" }],
      }),
    );
    const arns: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await aws(["register-task-definition", "--cli-input-json", "file://td.json"]);
      const td = r.out.taskDefinition as { taskDefinitionArn: string; revision: number; status: string; registeredBy: string };
      expect(td.revision).toBe(i + 1);
      expect(td.status).toBe("ACTIVE");
      // Open development mode: a request names no one, and what it makes is the root user's, as ECS records a caller.
      expect(td.registeredBy).toBe("arn:aws:iam::000000000000:root");
      arns.push(td.taskDefinitionArn);
    }

    // --page-size: the CLI asks for one item per call and joins every page.
    const paged = await aws(["list-task-definitions", "--family-prefix", family, "--page-size", "1"]);
    expect(paged.out.taskDefinitionArns).toEqual(arns);
    expect(paged.out.nextToken).toBeUndefined();

    // --max-items: the CLI stops after that many and hands back its own NextToken to resume from.
    const firstTwo = await aws([
      "list-task-definitions",
      "--family-prefix",
      family,
      "--max-items",
      "2",
      "--page-size",
      "1",
    ]);
    expect(firstTwo.out.taskDefinitionArns).toEqual(arns.slice(0, 2));
    const token = firstTwo.out.NextToken as string;
    expect(token).toEqual(expect.any(String));
    const rest = await aws([
      "list-task-definitions",
      "--family-prefix",
      family,
      "--starting-token",
      token,
      "--page-size",
      "1",
    ]);
    expect(rest.out.taskDefinitionArns).toEqual(arns.slice(2));

    const families = await aws(["list-task-definition-families", "--family-prefix", family, "--page-size", "1"]);
    expect(families.out.families).toEqual([family]);
    const described = await aws(["describe-task-definition", "--task-definition", `${family}:2`, "--include", "TAGS"]);
    expect(described.out.tags).toEqual([{ key: "made-by", value: "cli" }]);
  });

  test("runs a task, waits for tasks-running and tasks-stopped, and tags and untags it", async () => {
    const family = uniqueName("cli-run");
    writeFileSync(
      join(dir, "run.json"),
      JSON.stringify({
        family,
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 2 },
        ],
      }),
    );
    await aws(["register-task-definition", "--cli-input-json", "file://run.json"]);
    const ran = await aws([
      "run-task",
      "--cluster",
      b.cluster,
      "--task-definition",
      family,
      "--started-by",
      "cli-suite",
    ]);
    const task = (ran.out.tasks as { taskArn: string; lastStatus: string; startedBy: string }[])[0];
    expect(task?.lastStatus).toBe("PENDING");
    expect(task?.startedBy).toBe("cli-suite");
    const arn = task?.taskArn as string;

    await aws(["wait", "tasks-running", "--cluster", b.cluster, "--tasks", arn], 180_000);
    const listed = await aws(["list-tasks", "--cluster", b.cluster, "--started-by", "cli-suite"]);
    expect(listed.out.taskArns).toEqual([arn]);

    await aws(["tag-resource", "--resource-arn", arn, "--tags", "key=env,value=test", "key=owner,value=cli"]);
    const tags = await aws(["list-tags-for-resource", "--resource-arn", arn]);
    expect(tags.out.tags).toEqual([
      { key: "env", value: "test" },
      { key: "owner", value: "cli" },
    ]);
    await aws(["untag-resource", "--resource-arn", arn, "--tag-keys", "env"]);
    expect((await aws(["list-tags-for-resource", "--resource-arn", arn])).out.tags).toEqual([
      { key: "owner", value: "cli" },
    ]);

    await aws(["stop-task", "--cluster", b.cluster, "--task", arn, "--reason", "cli suite done"]);
    await aws(["wait", "tasks-stopped", "--cluster", b.cluster, "--tasks", arn], 180_000);
    const stopped = await aws(["describe-tasks", "--cluster", b.cluster, "--tasks", arn]);
    const t = (stopped.out.tasks as { lastStatus: string; stoppedReason: string; stoppedAt: string }[])[0];
    expect(t?.lastStatus).toBe("STOPPED");
    expect(t?.stoppedReason).toBe("cli suite done");
    // The CLI parsed the epoch seconds on the wire and prints them as ISO 8601.
    expect(Number.isNaN(Date.parse(t?.stoppedAt as string))).toBe(false);
  });

  test("the Fargate walk-through: an awsvpc task runs with its network interface attachment and its platform", async () => {
    const family = uniqueName("cli-fargate");
    writeFileSync(
      join(dir, "fargate.json"),
      JSON.stringify({
        family,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], stopTimeout: 2 }],
      }),
    );
    await aws(["register-task-definition", "--cli-input-json", "file://fargate.json"]);
    const ran = await aws([
      "run-task",
      "--cluster",
      b.cluster,
      "--task-definition",
      family,
      "--launch-type",
      "FARGATE",
      "--network-configuration",
      "awsvpcConfiguration={subnets=[subnet-abcd1234],securityGroups=[sg-abcd1234],assignPublicIp=ENABLED}",
    ]);
    const arn = (ran.out.tasks as { taskArn: string }[])[0]?.taskArn as string;
    await aws(["wait", "tasks-running", "--cluster", b.cluster, "--tasks", arn], 180_000);
    const t = (
      (await aws(["describe-tasks", "--cluster", b.cluster, "--tasks", arn])).out.tasks as {
        launchType: string;
        platformVersion: string;
        platformFamily: string;
        attachments: { type: string; status: string; details: { name: string; value: string }[] }[];
      }[]
    )[0];
    // A Fargate task names its platform's family as well as its version.
    expect([t?.launchType, t?.platformVersion, t?.platformFamily]).toEqual(["FARGATE", "1.4.0", "Linux"]);
    const eni = t?.attachments[0];
    expect([eni?.type, eni?.status]).toEqual(["ElasticNetworkInterface", "ATTACHED"]);
    const detail = (name: string) => eni?.details.find((d) => d.name === name)?.value;
    expect(detail("networkInterfaceId")).toMatch(/^eni-[0-9a-f]{17}$/);
    // The interface is in the subnet the run named.
    expect(detail("subnetId")).toBe("subnet-abcd1234");
    expect(detail("privateIPv4Address")).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await aws(["stop-task", "--cluster", b.cluster, "--task", arn]);

    // A Fargate service and its deployment name the platform too: the version asked for, and the one it resolves to.
    const service = uniqueName("cli-fargate-svc");
    const awsvpc = "awsvpcConfiguration={subnets=[subnet-beef5678],securityGroups=[sg-abcd1234],assignPublicIp=ENABLED}";
    const created = await createService(service, family, 1, "--launch-type", "FARGATE", "--network-configuration", awsvpc);
    const s = created.out.service as {
      platformVersion: string;
      platformFamily: string;
      deployments: { platformVersion: string; platformFamily: string }[];
    };
    expect([s.platformVersion, s.platformFamily]).toEqual(["LATEST", "Linux"]);
    expect([s.deployments[0]?.platformVersion, s.deployments[0]?.platformFamily]).toEqual(["1.4.0", "Linux"]);
    // And its service revision, as its deployment (through the SDK: this CLI predates service revisions).
    const deployments = await b.ecs.send(new ListServiceDeploymentsCommand({ cluster: b.cluster, service }));
    const revisionArn = deployments.serviceDeployments?.[0]?.targetServiceRevisionArn as string;
    const revision = (await b.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionArn] }))).serviceRevisions?.[0];
    expect([revision?.launchType, revision?.platformVersion, revision?.platformFamily]).toEqual(["FARGATE", "1.4.0", "Linux"]);
    // Its task's interface is in the service's subnet.
    const serviceTask = await waitFor(
      async () => ((await aws(["list-tasks", "--cluster", b.cluster, "--service-name", service])).out.taskArns as string[])[0],
      { timeoutMs: 30_000, intervalMs: 500, what: "the service's task" },
    );
    await aws(["wait", "tasks-running", "--cluster", b.cluster, "--tasks", serviceTask], 180_000);
    const described = (await aws(["describe-tasks", "--cluster", b.cluster, "--tasks", serviceTask])).out.tasks as {
      attachments: { details: { name: string; value: string }[] }[];
    }[];
    expect(described[0]?.attachments[0]?.details.find((d) => d.name === "subnetId")?.value).toBe("subnet-beef5678");
    await aws(["delete-service", "--cluster", b.cluster, "--service", service, "--force"]);
  });

  test("account settings, capacity providers and container instance attributes through the CLI", async () => {
    const set = await aws(["put-account-setting-default", "--name", "containerInsights", "--value", "enabled"]);
    expect(set.out.setting).toMatchObject({
      name: "containerInsights",
      value: "enabled",
      principalArn: "arn:aws:iam::000000000000:root",
    });
    const list = await aws(["list-account-settings", "--effective-settings", "--page-size", "3"]);
    expect((list.out.settings as unknown[]).length).toBe(11);
    await aws(["put-account-setting-default", "--name", "containerInsights", "--value", "disabled"]);

    // DescribeCapacityProviders has no CLI paginator: --max-results and --next-token are passed through.
    const first = await aws(["describe-capacity-providers", "--max-results", "1"]);
    expect(first.out.capacityProviders as unknown[]).toHaveLength(1);
    const next = await aws([
      "describe-capacity-providers",
      "--max-results",
      "10",
      "--next-token",
      first.out.nextToken as string,
    ]);
    const names = [
      ...(first.out.capacityProviders as { name: string }[]),
      ...(next.out.capacityProviders as { name: string }[]),
    ].map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["FARGATE", "FARGATE_SPOT"]));

    const instance = (
      (await aws(["list-container-instances", "--cluster", b.cluster])).out.containerInstanceArns as string[]
    )[0] as string;
    await aws([
      "put-attributes",
      "--cluster",
      b.cluster,
      "--attributes",
      `name=cli-attr,value=yes,targetId=${instance}`,
    ]);
    const attrs = await aws([
      "list-attributes",
      "--cluster",
      b.cluster,
      "--target-type",
      "container-instance",
      "--attribute-name",
      "cli-attr",
    ]);
    expect(attrs.out.attributes).toEqual([
      { name: "cli-attr", value: "yes", targetType: "container-instance", targetId: instance },
    ]);
    await aws(["delete-attributes", "--cluster", b.cluster, "--attributes", `name=cli-attr,targetId=${instance}`]);
  });

  test("exits 254 with the error code and message when the service answers an error", async () => {
    const missing = uniqueName("no-cluster");
    const r = await awsCli(["ecs", "describe-services", "--cluster", missing, "--services", "x"], {
      endpoint: b.endpoint,
    });
    expect(r.code).toBe(254);
    expect(r.stderr).toMatch(
      /An error occurred \(ClusterNotFoundException\) when calling the DescribeServices operation.*: Cluster not found\./,
    );
    const bad = await awsCli(["ecs", "list-clusters", "--max-results", "500"], { endpoint: b.endpoint });
    expect(bad.code).toBe(254);
    expect(bad.stderr).toContain("InvalidParameterException");
    const tag = await awsCli(
      [
        "ecs",
        "tag-resource",
        "--resource-arn",
        `arn:aws:ecs:us-east-1:000000000000:service/${missing}`,
        "--tags",
        "key=k,value=v",
      ],
      {
        endpoint: b.endpoint,
      },
    );
    expect(tag.code).toBe(254);
    expect(tag.stderr).toContain("Long arn format must be used for tagging operations");
  });

  test("a deregistered revision is refused as ECS refuses it: InvalidParameterException from run-task, ClientException from update-service", async () => {
    const family = uniqueName("cli-inactive");
    const container = JSON.stringify([{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16 }]);
    await aws(["register-task-definition", "--family", family, "--container-definitions", container]);
    const service = uniqueName("cli-inactive-svc");
    await createService(service, `${family}:1`, 0);
    await aws(["register-task-definition", "--family", family, "--container-definitions", container]);
    await aws(["deregister-task-definition", "--task-definition", `${family}:1`]);
    const run = await awsCli(["ecs", "run-task", "--cluster", b.cluster, "--task-definition", `${family}:1`], { endpoint: b.endpoint });
    expect(run.code).toBe(254);
    expect(run.stderr).toMatch(/\(InvalidParameterException\) when calling the RunTask operation.*: TaskDefinition is inactive\s*$/);
    const update = await awsCli(
      ["ecs", "update-service", "--cluster", b.cluster, "--service", service, "--task-definition", `${family}:1`],
      { endpoint: b.endpoint },
    );
    expect(update.code).toBe(254);
    expect(update.stderr).toMatch(/\(ClientException\) when calling the UpdateService operation.*: TaskDefinition is inactive\s*$/);
    await aws(["delete-service", "--cluster", b.cluster, "--service", service]);
  });

  test("delete-service of a service scaled above 0 is refused in ECS's words unless forced", async () => {
    const family = uniqueName("cli-delete");
    const container = JSON.stringify([{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 16, stopTimeout: 2 }]);
    await aws(["register-task-definition", "--family", family, "--container-definitions", container]);
    const service = uniqueName("cli-delete-svc");
    const created = await createService(service, family, 1);
    expect((created.out.service as { createdBy: string }).createdBy).toBe("arn:aws:iam::000000000000:root");
    const refused = await awsCli(["ecs", "delete-service", "--cluster", b.cluster, "--service", service], { endpoint: b.endpoint });
    expect(refused.code).toBe(254);
    expect(refused.stderr).toMatch(
      /\(InvalidParameterException\) when calling the DeleteService operation.*: The service cannot be stopped while it is scaled above 0\.\s*$/,
    );
    const forced = await aws(["delete-service", "--cluster", b.cluster, "--service", service, "--force"]);
    expect((forced.out.service as { status: string }).status).toBe("DRAINING");
  });
});
