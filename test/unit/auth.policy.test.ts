import { describe, expect, test } from "vitest";
import { deniedMessage, evaluate, PolicyDocument } from "../../services/api/auth/policy.ts";

const CLUSTER = "arn:aws:ecs:us-east-1:000000000000:cluster/prod";
const OTHER = "arn:aws:ecs:us-east-1:000000000000:cluster/dev";
const SERVICE = "arn:aws:ecs:us-east-1:000000000000:service/prod/web";

const allow = (Action: string | string[], Resource: string | string[] = "*") => ({
  Effect: "Allow" as const,
  Action,
  Resource,
});
const deny = (Action: string | string[], Resource: string | string[] = "*") => ({
  Effect: "Deny" as const,
  Action,
  Resource,
});
const doc = (...Statement: PolicyDocument["Statement"][]) =>
  PolicyDocument.parse({ Version: "2012-10-17", Statement: Statement.flat() });

describe("evaluate", () => {
  test.each([
    ["no policy at all denies implicitly", [], "ecs:ListClusters", "*", "ImplicitDeny"],
    ["an exact action on *", [doc(allow("ecs:ListClusters"))], "ecs:ListClusters", "*", "Allow"],
    ["another action is not granted", [doc(allow("ecs:ListClusters"))], "ecs:ListTasks", "*", "ImplicitDeny"],
    ["service wildcard", [doc(allow("ecs:*"))], "ecs:RunTask", CLUSTER, "Allow"],
    ["prefix wildcard", [doc(allow("ecs:Describe*"))], "ecs:DescribeTasks", "*", "Allow"],
    [
      "prefix wildcard does not grant others",
      [doc(allow("ecs:Describe*"))],
      "ecs:DeleteCluster",
      CLUSTER,
      "ImplicitDeny",
    ],
    ["actions match case-insensitively", [doc(allow("ECS:describe*"))], "ecs:DescribeClusters", "*", "Allow"],
    ["? matches one character", [doc(allow("ecs:?istTasks"))], "ecs:ListTasks", "*", "Allow"],
    ["every action", [doc(allow("*"))], "ecs:DeleteService", SERVICE, "Allow"],
    [
      "resource pattern matches",
      [doc(allow("ecs:*", "arn:aws:ecs:*:*:cluster/prod"))],
      "ecs:DeleteCluster",
      CLUSTER,
      "Allow",
    ],
    [
      "resource pattern misses",
      [doc(allow("ecs:*", "arn:aws:ecs:*:*:cluster/prod"))],
      "ecs:DeleteCluster",
      OTHER,
      "ImplicitDeny",
    ],
    [
      "resources match case-sensitively",
      [doc(allow("ecs:*", "arn:aws:ecs:*:*:cluster/PROD"))],
      "ecs:DeleteCluster",
      CLUSTER,
      "ImplicitDeny",
    ],
    [
      "an ARN pattern does not cover *",
      [doc(allow("ecs:ListTasks", "arn:aws:ecs:*"))],
      "ecs:ListTasks",
      "*",
      "ImplicitDeny",
    ],
    [
      "one of several resources",
      [doc(allow("ecs:*", [OTHER, "arn:aws:ecs:*:*:service/prod/*"]))],
      "ecs:UpdateService",
      SERVICE,
      "Allow",
    ],
    [
      "explicit deny wins over allow",
      [doc(allow("ecs:*"), deny("ecs:DeleteCluster"))],
      "ecs:DeleteCluster",
      CLUSTER,
      "ExplicitDeny",
    ],
    [
      "deny wins whatever the order",
      [doc(deny("ecs:Delete*", CLUSTER), allow("ecs:*"))],
      "ecs:DeleteCluster",
      CLUSTER,
      "ExplicitDeny",
    ],
    [
      "deny on another resource leaves the allow",
      [doc(allow("ecs:*"), deny("ecs:*", CLUSTER))],
      "ecs:DeleteCluster",
      OTHER,
      "Allow",
    ],
    ["deny across policies", [doc(allow("ecs:*")), doc(deny("ecs:RunTask"))], "ecs:RunTask", "*", "ExplicitDeny"],
    ["allow from a second policy", [doc(allow("ecs:List*")), doc(allow("ecs:RunTask"))], "ecs:RunTask", "*", "Allow"],
    [
      "NotAction allows the rest",
      [doc({ Effect: "Allow", NotAction: "ecs:Delete*", Resource: "*" })],
      "ecs:CreateCluster",
      CLUSTER,
      "Allow",
    ],
    [
      "NotAction excludes its actions",
      [doc({ Effect: "Allow", NotAction: "ecs:Delete*", Resource: "*" })],
      "ecs:DeleteCluster",
      CLUSTER,
      "ImplicitDeny",
    ],
    [
      "NotResource",
      [doc({ Effect: "Deny", Action: "ecs:*", NotResource: CLUSTER }, allow("ecs:*"))],
      "ecs:DeleteCluster",
      OTHER,
      "ExplicitDeny",
    ],
    [
      "NotResource spares its resource",
      [doc({ Effect: "Deny", Action: "ecs:*", NotResource: CLUSTER }, allow("ecs:*"))],
      "ecs:DeleteCluster",
      CLUSTER,
      "Allow",
    ],
    [
      "regex characters are literal",
      [doc(allow("ecs:*", "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1"))],
      "ecs:RunTask",
      "arn:aws:ecs:us-east-1:000000000000:task-definition/webx1",
      "ImplicitDeny",
    ],
    [
      "a single statement object",
      [PolicyDocument.parse({ Statement: allow("ecs:ListClusters") })],
      "ecs:ListClusters",
      "*",
      "Allow",
    ],
  ] as const)("%s", (_name, policies, action, resource, decision) => {
    expect(evaluate(policies as readonly PolicyDocument[], { action, resource })).toBe(decision);
  });
});

describe("policy documents", () => {
  test.each([
    [
      "a Condition (not supported, so refused rather than ignored)",
      { Statement: [{ ...allow("ecs:*"), Condition: {} }] },
    ],
    ["both Action and NotAction", { Statement: [{ ...allow("ecs:*"), NotAction: "ecs:RunTask" }] }],
    ["neither Resource nor NotResource", { Statement: [{ Effect: "Allow", Action: "ecs:*" }] }],
    ["an unknown Effect", { Statement: [{ ...allow("ecs:*"), Effect: "Permit" }] }],
    ["a Principal (identity policies have none)", { Statement: [{ ...allow("ecs:*"), Principal: "*" }] }],
    ["an unknown Version", { Version: "2020-01-01", Statement: [allow("ecs:*")] }],
    ["an empty action list", { Statement: [{ Effect: "Allow", Action: [], Resource: "*" }] }],
  ])("refuses %s", (_name, policy) => {
    expect(PolicyDocument.safeParse(policy).success).toBe(false);
  });
});

describe("deniedMessage", () => {
  test("names the principal, action, resource and reason as IAM does", () => {
    const request = { action: "ecs:RunTask", resource: "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1" };
    expect(deniedMessage("arn:aws:iam::000000000000:user/ci", request, "ImplicitDeny")).toBe(
      "User: arn:aws:iam::000000000000:user/ci is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:us-east-1:000000000000:task-definition/web:1 because no identity-based policy allows the ecs:RunTask action",
    );
    expect(deniedMessage("arn:aws:iam::000000000000:user/ci", request, "ExplicitDeny")).toMatch(
      /on resource: \S+ with an explicit deny in an identity-based policy$/,
    );
  });
});
