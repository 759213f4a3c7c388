import { describe, expect, test } from "vitest";
import { resourcesFor } from "../../services/api/auth/resources.ts";

const SCOPE = { region: "eu-west-1", account: "123456789012" };
const P = "arn:aws:ecs:eu-west-1:123456789012";
const lookup = { latestRevision: (_region: string, family: string) => (family === "web" ? 7 : undefined) };

describe("resourcesFor", () => {
  test.each([
    ["ListClusters", {}, ["*"]],
    ["ListTasks", { cluster: "prod" }, ["*"]],
    ["RegisterTaskDefinition", { family: "web" }, ["*"]],
    ["DescribeTaskDefinition", { taskDefinition: "web:1" }, ["*"]],
    ["CreateCluster", { clusterName: "prod" }, [`${P}:cluster/prod`]],
    ["CreateCluster", {}, [`${P}:cluster/default`]],
    ["DeleteCluster", { cluster: `${P}:cluster/prod` }, [`${P}:cluster/prod`]],
    ["DescribeClusters", {}, [`${P}:cluster/default`]],
    ["DescribeClusters", { clusters: ["a", "b", "a"] }, [`${P}:cluster/a`, `${P}:cluster/b`]],
    ["ListContainerInstances", { cluster: "prod" }, [`${P}:cluster/prod`]],
    ["RunTask", { taskDefinition: "web:3" }, [`${P}:task-definition/web:3`]],
    ["RunTask", { taskDefinition: "web" }, [`${P}:task-definition/web:7`]],
    ["RunTask", { taskDefinition: "batch" }, [`${P}:task-definition/batch:*`]],
    ["RunTask", { taskDefinition: `${P}:task-definition/web:2` }, [`${P}:task-definition/web:2`]],
    [
      "StopTask",
      { cluster: "prod", task: "0123456789abcdef0123456789abcdef" },
      [`${P}:task/prod/0123456789abcdef0123456789abcdef`],
    ],
    ["DescribeTasks", { tasks: ["abc"] }, [`${P}:task/default/abc`]],
    ["CreateService", { cluster: "prod", serviceName: "web" }, [`${P}:service/prod/web`]],
    ["UpdateService", { service: `${P}:service/prod/web` }, [`${P}:service/prod/web`]],
    [
      "DescribeServices",
      { cluster: "prod", services: ["web", "api"] },
      [`${P}:service/prod/web`, `${P}:service/prod/api`],
    ],
    ["ListServiceDeployments", { cluster: "prod", service: "web" }, [`${P}:service/prod/web`]],
    [
      "DescribeServiceDeployments",
      { serviceDeploymentArns: [`${P}:service-deployment/prod/web/1`] },
      [`${P}:service-deployment/prod/web/1`],
    ],
    ["DescribeServiceRevisions", { serviceRevisionArns: [`${P}:service-revision/prod/web/1`] }, [`${P}:service-revision/prod/web/1`]],
    ["DescribeContainerInstances", { cluster: "c", containerInstances: ["i1"] }, [`${P}:container-instance/c/i1`]],
    ["TagResource", { resourceArn: `${P}:cluster/prod` }, [`${P}:cluster/prod`]],
    [
      "DeleteTaskDefinitions",
      { taskDefinitions: ["web:1", "web:2"] },
      [`${P}:task-definition/web:1`, `${P}:task-definition/web:2`],
    ],
  ])("%s %j", (action, input, expected) => {
    expect(resourcesFor(action, input, SCOPE, lookup)).toEqual(expected);
  });

  test.each([
    ["DeleteCluster", { cluster: 42 }],
    ["DescribeClusters", { clusters: "prod" }],
    ["DescribeTasks", { tasks: [1, 2] }],
    ["DescribeTasks", { tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }],
    ["RunTask", { taskDefinition: { family: "web" } }],
    ["StopTask", { task: null }],
    ["TagResource", { resourceArn: [] }],
  ])("a malformed %s input is authorized as * (the handler refuses it)", (action, input) => {
    expect(resourcesFor(action, input as Record<string, unknown>, SCOPE, lookup)).toEqual(["*"]);
  });
});
