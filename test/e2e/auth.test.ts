import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListClustersCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TARGET_PREFIX } from "../../services/api/operations.ts";
import { sdkHttpAgents } from "../../services/cli/client.ts";
import { awsCli } from "../support/aws-cli.ts";
import { TEST_IMAGE } from "../support/docker.ts";
import { freePort } from "../support/ports.ts";
import { spawnBerth } from "../support/processes.ts";
import {
  ADMIN,
  LIMITED,
  NO_POLICY,
  principalOf,
  READONLY,
  type SecuredServer,
  SESSION,
  startSecuredServer,
} from "../support/secured-server.ts";

/**
 * A `berth server` with a credentials file, driven by the real AWS SDK v3 and AWS CLI v2: what
 * they sign is verified, unknown or wrong signatures are refused in AWS's words, and each key
 * can do what its policies allow and nothing else.
 */

let s: SecuredServer;
beforeAll(async () => {
  s = await startSecuredServer("t-auth");
});
afterAll(async () => {
  await s?.close();
});

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const sdk = (credentials: Creds, extra: { systemClockOffset?: number } = {}) =>
  new ECSClient({ endpoint: s.endpoint, region: "us-east-1", credentials, maxAttempts: 1, requestHandler: sdkHttpAgents(), ...extra });

async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("the request was accepted");
}

describe("authentication", () => {
  test("the AWS SDK v3, signed with a configured key, is served; what it creates names its principal", async () => {
    const ecs = sdk(ADMIN);
    await ecs.send(new CreateClusterCommand({ clusterName: "auth-sdk" }));
    const family = `auth-${Date.now().toString(36)}`;
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [{ name: "a", image: TEST_IMAGE, memory: 16 }],
      }),
    );
    const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
    expect(td.taskDefinition?.registeredBy).toBe(principalOf("admin"));
  });

  test("the AWS CLI v2 is served, with a long-term key and with a session token", async () => {
    const plain = await awsCli(["ecs", "list-clusters"], { endpoint: s.endpoint, credentials: ADMIN });
    expect(plain.code, plain.stderr).toBe(0);
    const session = await awsCli(["ecs", "describe-clusters", "--clusters", "auth-sdk"], {
      endpoint: s.endpoint,
      credentials: SESSION,
    });
    expect(session.code, session.stderr).toBe(0);
    const missingToken = await awsCli(["ecs", "list-clusters"], {
      endpoint: s.endpoint,
      credentials: { accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey },
    });
    expect(missingToken.code).not.toBe(0);
    expect(missingToken.stderr).toContain("UnrecognizedClientException");
  });

  test("an unknown access key is an UnrecognizedClientException", async () => {
    expect(
      await refusal(
        sdk({ accessKeyId: "AKIDNOTCONFIGURED001", secretAccessKey: "x" }).send(new ListClustersCommand({})),
      ),
    ).toEqual({
      name: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
      status: 400,
    });
    const cli = await awsCli(["ecs", "list-clusters"], { endpoint: s.endpoint });
    expect(cli.stderr).toContain("(UnrecognizedClientException)");
  });

  test("a wrong secret is an InvalidSignatureException", async () => {
    const r = await refusal(sdk({ ...ADMIN, secretAccessKey: "not-the-secret" }).send(new ListClustersCommand({})));
    expect(r.name).toBe("InvalidSignatureException");
    expect(r.status).toBe(400);
    expect(r.message).toMatch(/^The request signature we calculated does not match the signature you provided\./);
  });

  test("a clock more than 5 minutes off is refused as AWS refuses it", async () => {
    const late = await refusal(sdk(ADMIN, { systemClockOffset: -10 * 60_000 }).send(new ListClustersCommand({})));
    expect(late.name).toBe("InvalidSignatureException");
    expect(late.message).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
    const early = await refusal(sdk(ADMIN, { systemClockOffset: 10 * 60_000 }).send(new ListClustersCommand({})));
    expect(early.message).toMatch(/^Signature not yet current: \d{8}T\d{6}Z is still later than/);
  });

  test("an unsigned request is a MissingAuthenticationTokenException", async () => {
    const res = await fetch(s.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${TARGET_PREFIX}ListClusters` },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    });
  });
});

describe("authorization", () => {
  test("a read-only key describes and lists, and is denied everything else", async () => {
    const ecs = sdk(READONLY);
    await ecs.send(new ListClustersCommand({}));
    await ecs.send(new DescribeClustersCommand({ clusters: ["auth-sdk"] }));
    expect(await refusal(ecs.send(new CreateClusterCommand({ clusterName: "auth-ro" })))).toEqual({
      name: "AccessDeniedException",
      message: `User: ${principalOf("reader")} is not authorized to perform: ecs:CreateCluster on resource: arn:aws:ecs:us-east-1:123456789012:cluster/auth-ro because no identity-based policy allows the ecs:CreateCluster action`,
      status: 400,
    });
  });

  test("an explicit Deny wins over an Allow, for the resource it names only", async () => {
    const admin = sdk(ADMIN);
    await admin.send(new CreateClusterCommand({ clusterName: s.protectedCluster }));
    await admin.send(new CreateClusterCommand({ clusterName: "auth-deletable" }));
    const ecs = sdk(LIMITED);
    const denied = await refusal(ecs.send(new DeleteClusterCommand({ cluster: s.protectedCluster })));
    expect(denied.name).toBe("AccessDeniedException");
    expect(denied.message).toBe(
      `User: arn:aws:iam::123456789012:user/${LIMITED.accessKeyId} is not authorized to perform: ecs:DeleteCluster on resource: arn:aws:ecs:us-east-1:123456789012:cluster/${s.protectedCluster} with an explicit deny in an identity-based policy`,
    );
    await ecs.send(new DeleteClusterCommand({ cluster: "auth-deletable" }));
    const still = await admin.send(new DescribeClustersCommand({ clusters: [s.protectedCluster] }));
    expect(still.clusters?.[0]?.status).toBe("ACTIVE");
  });

  test("a key without policies may do nothing", async () => {
    expect((await refusal(sdk(NO_POLICY).send(new ListClustersCommand({})))).name).toBe("AccessDeniedException");
  });
});

test("without credentials the server says once, at start, that it runs in open development mode", async () => {
  const port = await freePort();
  const p = spawnBerth(["server", "--nats", s.nats.url, "--port", String(port)], {
    name: `${s.server.name}-open`,
    env: { BERTH_LOG_FORMAT: "json", BERTH_CREDENTIALS_FILE: undefined },
  });
  try {
    await p.waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);
    const lines = p
      .readLog()
      .split("\n")
      .filter((l) => l.includes("open development mode"));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string).level).toBe(40);
    expect(s.server.readLog()).not.toContain("open development mode");
  } finally {
    await p.stop();
  }
});
