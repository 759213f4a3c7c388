import { request } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ECS_OPERATIONS, TARGET_PREFIX } from "../../services/api/operations.ts";
import { ADMIN, type SecuredServer, startSecuredServer } from "../support/secured-server.ts";
import { signRequest } from "../support/sigv4-signer.ts";

/**
 * Hostile input against a running `berth server` (credentials on, no agent): for every ECS
 * action, random and malformed JSON, wrong types, huge and deeply nested values, odd unicode,
 * oversized bodies and broken SigV4 headers. Every answer must be a 2xx or a 4xx with an
 * ECS-shaped error (`__type` + `message`) — never a 5xx, a dropped connection or a hang — and a
 * request that is refused must not write an event. Runs are bounded (seeded, fixed counts).
 */

let s: SecuredServer;
let host: string;
beforeAll(async () => {
  s = await startSecuredServer("t-fuzz");
  host = new URL(s.endpoint).host;
});
afterAll(async () => {
  await s?.close();
});

const ACTIONS = [...ECS_OPERATIONS].sort();
/** A request that has not been answered by then counts as a hang. */
const ANSWER_DEADLINE_MS = 15_000;
/** Fixed by default so a run is repeatable; BERTH_FUZZ_SEED and BERTH_FUZZ_SCALE (run-count multiplier) explore further. */
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 20_260_115);
const SCALE = Math.max(1, Number(process.env.BERTH_FUZZ_SCALE ?? 1));
const runs = (n: number) => ({ numRuns: n * SCALE, seed: SEED, endOnFailure: true });

interface Answer {
  status: number;
  body: string;
  json?: { __type?: unknown; message?: unknown };
}

/** One raw HTTP request; rejects on a dropped connection or when no answer comes in time. */
function send(headers: Record<string, string | string[]>, body: Buffer | string, method = "POST"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      s.endpoint,
      { method, headers: { "content-length": String(Buffer.byteLength(body)), ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Answer["json"];
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: text, ...(json ? { json } : {}) });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(ANSWER_DEADLINE_MS, () =>
      req.destroy(new Error(`no answer within ${ANSWER_DEADLINE_MS} ms (hang)`)),
    );
    // The server may answer (413) before an oversized body is fully written; the answer is what counts.
    req.on("error", reject);
    req.end(body);
  });
}

const baseHeaders = (action: string) => ({
  "content-type": "application/x-amz-json-1.1",
  "x-amz-target": `${TARGET_PREFIX}${action}`,
});

/** Signed by the AWS SDK's signer with the admin key: authentication and authorization pass. */
async function signedSend(action: string, body: string | Buffer, extra: Record<string, string> = {}): Promise<Answer> {
  const headers = { ...baseHeaders(action), ...extra };
  const text = typeof body === "string" ? body : body.toString("latin1");
  const signed = await signRequest({ host, headers, body: typeof body === "string" ? body : text }, ADMIN);
  return send(signed, body);
}

/** The answer is a success, or a client error in ECS's shape. Never a server error. */
function expectWellFormed(a: Answer, what: string): void {
  const where = `${what} → ${a.status} ${a.body.slice(0, 300)}`;
  expect(a.status, where).toBeGreaterThanOrEqual(200);
  expect(a.status, where).toBeLessThan(500);
  if (a.status >= 300) {
    expect(a.status, where).toBeGreaterThanOrEqual(400);
    expect(typeof a.json?.__type, where).toBe("string");
    expect(typeof a.json?.message, where).toBe("string");
  }
}

function expectRefused(a: Answer, what: string): void {
  expectWellFormed(a, what);
  expect(a.status, `${what} was accepted: ${a.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
}

/** ECS request member names, so random objects often hit real members with wrong values. */
const MEMBERS = [
  "cluster",
  "clusterName",
  "clusters",
  "task",
  "tasks",
  "taskDefinition",
  "taskDefinitions",
  "family",
  "familyPrefix",
  "containerDefinitions",
  "service",
  "serviceName",
  "services",
  "desiredCount",
  "count",
  "launchType",
  "startedBy",
  "reason",
  "include",
  "maxResults",
  "nextToken",
  "tags",
  "tagKeys",
  "resourceArn",
  "containerInstance",
  "containerInstances",
  "status",
  "desiredStatus",
  "settings",
  "networkConfiguration",
  "placementConstraints",
  "placementStrategy",
  "overrides",
  "capacityProviderStrategy",
  "deploymentConfiguration",
  "forceNewDeployment",
  "sort",
  "cpu",
  "memory",
  "networkMode",
  "requiresCompatibilities",
  "volumes",
  "clientToken",
  "group",
  "schedulingStrategy",
  "attributes",
  "name",
  "value",
  "namespace",
  "force",
  "serviceRegistries",
  "loadBalancers",
  "healthCheckGracePeriodSeconds",
  "enableExecuteCommand",
  "propagateTags",
  "enableECSManagedTags",
  "pidMode",
  "ipcMode",
  "executionRoleArn",
  "taskRoleArn",
  "runtimePlatform",
  "ephemeralStorage",
  "proxyConfiguration",
];

const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\uD800",
    "\uDFFF",
    "a\uD83D",
    "\u202Eevil",
    "\uFEFF",
    "名前",
    "🚢🚢",
    "e\u0301",
    "default\u0000",
    "..",
    "a.b",
    "a*b",
    "a>b",
    "arn:aws:ecs:us-east-1:123456789012:cluster/x\ny",
    "arn:aws:ecs:us-east-1:123456789012:task/",
    "arn:aws:ecs:::",
    "x".repeat(300),
    "%00",
    "$JS.API.>",
  ),
);

const scalar = fc.oneof(
  oddString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("arr"), tie("obj")),
  arr: fc.array(tie("v"), { maxLength: 4 }),
  obj: fc.dictionary(fc.oneof(fc.constantFrom(...MEMBERS), oddString), tie("v"), { maxKeys: 4 }),
})).v;
const requestObject = fc.dictionary(fc.oneof(fc.constantFrom(...MEMBERS), oddString), value, { maxKeys: 6 });

/** Actions that write, and that read, for the size tests. */
const WRITES = ["CreateCluster", "RegisterTaskDefinition", "RunTask", "CreateService", "UpdateService", "TagResource"];
const READS = ["DescribeClusters", "DescribeTasks", "ListTasks", "DescribeServices", "ListTaskDefinitions"];

describe("malformed input", () => {
  test("refuses malformed JSON and non-object bodies, writing nothing", async () => {
    const before = await s.lastEventSeq();
    const malformed = fc.oneof(
      fc.string({ minLength: 1, maxLength: 60 }).filter((t) => !isJsonObject(t) && t.trim() !== ""),
      fc.constantFrom("{", "}", '{"a":', '{"a":1,}', "[]", "null", "1", '"x"', "true", "{'a':1}", '{"a":1}{"b":2}'),
      requestObject.map((o) => JSON.stringify(o).slice(0, -1)),
      fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((b) => Buffer.from(b).toString("latin1"))
        .filter((t) => !isJsonObject(t) && t.trim() !== ""),
    );
    for (const action of ACTIONS) {
      await fc.assert(
        fc.asyncProperty(malformed, async (body) => {
          expectRefused(await signedSend(action, body), `${action} ${JSON.stringify(body).slice(0, 120)}`);
        }),
        runs(10),
      );
    }
    expect(await s.lastEventSeq()).toBe(before);
  }, 60_000);
});

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

describe("huge input", () => {
  /** A member each action reads (and requires of some type), so a deep value there must be refused. */
  const READ_MEMBER: Record<string, string> = {
    CreateCluster: "clusterName",
    RegisterTaskDefinition: "containerDefinitions",
    RunTask: "taskDefinition",
    CreateService: "serviceName",
    UpdateService: "service",
    TagResource: "resourceArn",
    DescribeClusters: "clusters",
    DescribeTasks: "tasks",
    ListTasks: "cluster",
    DescribeServices: "services",
    ListTaskDefinitions: "familyPrefix",
  };

  test("deeply nested values are refused, writing nothing", async () => {
    const before = await s.lastEventSeq();
    for (const action of [...WRITES, ...READS]) {
      for (const depth of [1_000, 20_000, 150_000]) {
        const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
        const objects = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
        for (const deep of [nested, objects]) {
          for (const member of [READ_MEMBER[action] as string, "tags", "overrides"]) {
            const body = `{"${member}":${deep}}`;
            if (Buffer.byteLength(body) > 1024 * 1024) continue;
            const a = await signedSend(action, body);
            if (member === READ_MEMBER[action]) expectRefused(a, `${action} ${member} nested ${depth}`);
            else expectWellFormed(a, `${action} ${member} nested ${depth}`);
          }
        }
      }
    }
    expect(await s.lastEventSeq()).toBe(before);
  }, 60_000);

  test("an oversized body is refused before it is parsed, writing nothing", async () => {
    const before = await s.lastEventSeq();
    for (const size of [1024 * 1024 + 1, 3 * 1024 * 1024]) {
      const body = Buffer.alloc(size, 0x20);
      body.write('{"clusterName":"fuzz-oversized","tags":[', 0);
      expectRefused(await signedSend("CreateCluster", body), `CreateCluster ${size} bytes`);
    }
    expect(await s.lastEventSeq()).toBe(before);
  }, 30_000);
});

describe("broken SigV4", () => {
  type Mutation = (h: Record<string, string>, body: string) => { headers: Record<string, string>; body: string };
  const printable = (max: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${max}}$`));
  const replaceAuth =
    (f: (auth: string) => string): Mutation =>
    (h, body) => ({
      headers: { ...h, authorization: f(h.authorization as string) },
      body,
    });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constant<Mutation>((h, body) => {
      const { authorization: _a, ...rest } = h;
      return { headers: rest, body };
    }),
    printable(2_000).map((junk) => replaceAuth(() => junk)),
    printable(200).map((junk) => replaceAuth(() => `AWS4-HMAC-SHA256 ${junk}`)),
    fc
      .nat({ max: 63 })
      .map((i) =>
        replaceAuth((a) =>
          a.replace(
            /Signature=([0-9a-f]+)/,
            (_m, sig: string) => `Signature=${sig.slice(0, i)}${sig[i] === "0" ? "1" : "0"}${sig.slice(i + 1)}`,
          ),
        ),
      ),
    printable(40).map((id) =>
      replaceAuth((a) => a.replace(/Credential=[^/]+/, `Credential=${id.replace(/[/,\s]/g, "")}`)),
    ),
    printable(20).map((region) => replaceAuth((a) => a.replace(/\/us-east-1\//, `/${region}/`))),
    fc.constantFrom("s3", "ecr", "", "ECS").map((svc) => replaceAuth((a) => a.replace("/ecs/", `/${svc}/`))),
    printable(20).map((date) => replaceAuth((a) => a.replace(/\/\d{8}\//, `/${date}/`))),
    fc
      .constantFrom("x-amz-date", "host", "content-type")
      .map((name) => replaceAuth((a) => a.replace(/SignedHeaders=[^,]+/, (m) => m.replace(name, "")))),
    printable(30).map((date) => ((h, body) => ({ headers: { ...h, "x-amz-date": date }, body })) as Mutation),
    fc
      .integer({ min: 6, max: 60 * 24 * 365 })
      .chain((min) => fc.constantFrom(-min, min))
      .map(
        (min) =>
          ((h, body) => {
            const d = new Date(Date.now() + min * 60_000)
              .toISOString()
              .replace(/[-:]/g, "")
              .replace(/\.\d{3}/, "");
            return { headers: { ...h, "x-amz-date": d }, body };
          }) as Mutation,
      ),
    printable(100).map((t) => ((h, body) => ({ headers: { ...h, "x-amz-security-token": t }, body })) as Mutation),
    printable(64).map((t) => ((h, body) => ({ headers: { ...h, "x-amz-content-sha256": t }, body })) as Mutation),
    fc.constantFrom(" ", "\n", "x").map((extra) => ((h, body) => ({ headers: h, body: body + extra })) as Mutation),
    fc.constant<Mutation>((h, body) => ({ headers: { ...h, "x-amz-target": `${TARGET_PREFIX}DeleteCluster` }, body })),
    fc.constant<Mutation>((h, body) => ({ headers: { ...h, host: "evil.example:80" }, body })),
  );

  test("every broken signature is refused in AWS's words, and the request writes nothing", async () => {
    const before = await s.lastEventSeq();
    const body = JSON.stringify({ clusterName: "fuzz-must-not-exist" });
    await fc.assert(
      fc.asyncProperty(mutation, async (mutate) => {
        const signed = await signRequest({ host, headers: baseHeaders("CreateCluster"), body }, ADMIN);
        const m = mutate(signed, body);
        const a = await send(m.headers, m.body);
        expectRefused(a, `mutated ${JSON.stringify(m.headers).slice(0, 400)}`);
        expect(a.json?.__type).toMatch(
          /^(MissingAuthenticationTokenException|UnrecognizedClientException|InvalidSignatureException|IncompleteSignatureException)$/,
        );
      }),
      runs(600),
    );
    expect(await s.lastEventSeq()).toBe(before);
    const check = await signedSend("DescribeClusters", JSON.stringify({ clusters: ["fuzz-must-not-exist"] }));
    expect(check.status).toBe(200);
    expect(JSON.parse(check.body).clusters).toEqual([]);
  }, 60_000);

  test("unsigned requests to every action are refused before anything else", async () => {
    const before = await s.lastEventSeq();
    for (const action of [...ACTIONS, "NoSuchAction"]) {
      const a = await send(baseHeaders(action), "{}");
      expectRefused(a, `unsigned ${action}`);
      expect(a.json?.__type).toBe("MissingAuthenticationTokenException");
    }
    const noTarget = await send({ "content-type": "application/x-amz-json-1.1" }, "{}");
    expect(noTarget.json?.__type).toBe("MissingAuthenticationTokenException");
    expect(await s.lastEventSeq()).toBe(before);
  });
});

/**
 * Input that may be accepted (and then write events, some of them later, such as a registered
 * instance that never heartbeats being marked disconnected): after every test that checks the
 * log was not written.
 */
describe("random input to every ECS action", () => {
  test("answers random objects, wrong types and odd unicode with a success or an ECS client error", async () => {
    for (const action of ACTIONS) {
      await fc.assert(
        fc.asyncProperty(requestObject, async (input) => {
          const body = JSON.stringify(input);
          expectWellFormed(await signedSend(action, body), `${action} ${body.slice(0, 200)}`);
        }),
        runs(30),
      );
    }
  }, 120_000);

  test("long strings and long lists are refused or answered, never a server error", async () => {
    for (const action of [...WRITES, ...READS]) {
      for (const body of [
        JSON.stringify({ cluster: "c".repeat(100_000) }),
        JSON.stringify({ clusterName: "n".repeat(300_000), family: "f".repeat(300_000) }),
        JSON.stringify({ clusters: Array.from({ length: 50_000 }, (_, i) => `c${i}`) }),
        JSON.stringify({ tasks: Array.from({ length: 50_000 }, () => "0123456789abcdef0123456789abcdef") }),
        JSON.stringify({ tags: Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i}`, value: "v" })) }),
        JSON.stringify({
          family: "fuzz-huge",
          containerDefinitions: Array.from({ length: 5_000 }, (_, i) => ({ name: `c${i}`, image: "x", memory: 1 })),
        }),
        JSON.stringify(Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i]))),
      ]) {
        expectWellFormed(await signedSend(action, body), `${action} ${body.slice(0, 60)}…(${body.length} bytes)`);
      }
    }
  }, 60_000);
});

/**
 * Near-valid requests: a well-formed request per action with one member (at any depth) replaced by
 * a random value, removed, or joined by an unknown one — input that gets past the first checks and
 * reaches deeper code. Last in the file: what these create may set the scheduler writing events.
 */
describe("near-valid requests", () => {
  const ID = "0123456789abcdef0123456789abcdef";
  const CLUSTER = "fz-cluster";
  const tags = [{ key: "team", value: "fuzz" }];
  const TEMPLATES: Record<string, Record<string, unknown>> = {
    CreateCluster: {
      clusterName: "fz-new",
      tags,
      settings: [{ name: "containerInsights", value: "enabled" }],
      capacityProviders: ["FARGATE"],
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    },
    RegisterTaskDefinition: {
      family: "fz-td",
      cpu: "256",
      memory: "512",
      networkMode: "bridge",
      requiresCompatibilities: ["EC2"],
      volumes: [{ name: "data", host: { sourcePath: "/tmp" } }],
      placementConstraints: [{ type: "memberOf", expression: "attribute:ecs.os-type == linux" }],
      containerDefinitions: [
        {
          name: "app",
          image: "berth-test/busybox:latest",
          memory: 32,
          cpu: 64,
          essential: true,
          command: ["sh", "-c", "true"],
          portMappings: [{ containerPort: 80, hostPort: 0, protocol: "tcp" }],
          environment: [{ name: "A", value: "b" }],
          mountPoints: [{ sourceVolume: "data", containerPath: "/data" }],
          healthCheck: { command: ["CMD-SHELL", "true"], interval: 5, retries: 3 },
          dependsOn: [],
          ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 2048 }],
          logConfiguration: { logDriver: "json-file", options: { "max-size": "1m" } },
        },
      ],
      tags,
    },
    RunTask: {
      cluster: CLUSTER,
      taskDefinition: "fz-td",
      count: 1,
      startedBy: "fuzz",
      group: "family:fz",
      launchType: "EC2",
      overrides: { containerOverrides: [{ name: "app", command: ["true"], environment: [{ name: "X", value: "y" }] }] },
      placementConstraints: [{ type: "distinctInstance" }],
      placementStrategy: [{ type: "spread", field: "attribute:ecs.availability-zone" }],
      tags,
    },
    StartTask: { cluster: CLUSTER, taskDefinition: "fz-td", containerInstances: [ID], startedBy: "fuzz" },
    StopTask: { cluster: CLUSTER, task: ID, reason: "fuzz" },
    DescribeTasks: { cluster: CLUSTER, tasks: [ID], include: ["TAGS"] },
    ListTasks: { cluster: CLUSTER, family: "fz-td", desiredStatus: "RUNNING", maxResults: 10, startedBy: "fuzz" },
    CreateService: {
      cluster: CLUSTER,
      serviceName: "fz-svc",
      taskDefinition: "fz-td",
      desiredCount: 0,
      launchType: "EC2",
      deploymentConfiguration: {
        maximumPercent: 200,
        minimumHealthyPercent: 50,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
      placementStrategy: [{ type: "binpack", field: "memory" }],
      schedulingStrategy: "REPLICA",
      tags,
    },
    UpdateService: { cluster: CLUSTER, service: "fz-svc", desiredCount: 0, forceNewDeployment: true },
    DescribeServices: { cluster: CLUSTER, services: ["fz-svc"], include: ["TAGS"] },
    DeleteService: { cluster: CLUSTER, service: "fz-none", force: true },
    DescribeClusters: { clusters: [CLUSTER], include: ["SETTINGS", "STATISTICS", "TAGS"] },
    UpdateClusterSettings: { cluster: CLUSTER, settings: [{ name: "containerInsights", value: "disabled" }] },
    DescribeTaskDefinition: { taskDefinition: "fz-td:1", include: ["TAGS"] },
    ListTaskDefinitions: { familyPrefix: "fz", status: "ACTIVE", sort: "DESC", maxResults: 5 },
    DeleteTaskDefinitions: { taskDefinitions: ["fz-none:1"] },
    DescribeContainerInstances: { cluster: CLUSTER, containerInstances: [ID], include: ["TAGS"] },
    ListContainerInstances: { cluster: CLUSTER, filter: "attribute:ecs.os-type == linux", status: "ACTIVE" },
    UpdateContainerInstancesState: { cluster: CLUSTER, containerInstances: [ID], status: "DRAINING" },
    RegisterContainerInstance: {
      cluster: CLUSTER,
      totalResources: [{ name: "CPU", type: "INTEGER", integerValue: 1024 }],
      versionInfo: { agentVersion: "1.0.0" },
      attributes: [{ name: "stack", value: "fuzz" }],
    },
    PutAttributes: {
      cluster: CLUSTER,
      attributes: [{ name: "stack", value: "x", targetType: "container-instance", targetId: ID }],
    },
    ListAttributes: { cluster: CLUSTER, targetType: "container-instance", attributeName: "stack" },
    TagResource: { resourceArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`, tags },
    UntagResource: { resourceArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`, tagKeys: ["team"] },
    PutAccountSetting: { name: "containerInsights", value: "enabled" },
    CreateCapacityProvider: {
      name: "fz-cp",
      autoScalingGroupProvider: {
        autoScalingGroupArn: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
      },
    },
    UpdateTaskProtection: { cluster: CLUSTER, tasks: [ID], protectionEnabled: true, expiresInMinutes: 60 },
    SubmitTaskStateChange: { cluster: CLUSTER, task: ID, status: "RUNNING", reason: "fuzz" },
    DiscoverPollEndpoint: { cluster: CLUSTER, containerInstance: ID },
  };

  /** Every path into a template (object members and array elements, at any depth). */
  function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(v)) return v.flatMap((x, i) => [[...prefix, i], ...paths(x, [...prefix, i])]);
    if (v !== null && typeof v === "object") {
      return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
    }
    return [];
  }

  function edit(
    template: Record<string, unknown>,
    path: (string | number)[],
    op: "set" | "delete" | "add",
    v: unknown,
  ) {
    const copy = structuredClone(template);
    let at: Record<string | number, unknown> = copy;
    for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (op === "delete") {
      if (Array.isArray(at)) at.splice(last as number, 1);
      else delete at[last];
    } else if (op === "add" && !Array.isArray(at)) at[`${String(last)}Extra`] = v;
    else at[last] = v;
    return copy;
  }

  beforeAll(async () => {
    await signedSend("CreateCluster", JSON.stringify({ clusterName: CLUSTER }));
    const td = TEMPLATES.RegisterTaskDefinition as Record<string, unknown>;
    const registered = await signedSend("RegisterTaskDefinition", JSON.stringify(td));
    expect(registered.status, registered.body).toBe(200);
  });

  test("one member changed, removed or added: a success or an ECS client error", async () => {
    for (const [action, template] of Object.entries(TEMPLATES)) {
      expectWellFormed(await signedSend(action, JSON.stringify(template)), `${action} template`);
      const all = paths(template);
      await fc.assert(
        fc.asyncProperty(
          fc.nat(),
          fc.constantFrom("set", "set", "delete", "add") as fc.Arbitrary<"set" | "delete" | "add">,
          value,
          async (i, op, v) => {
            const body = JSON.stringify(edit(template, all[i % all.length] as (string | number)[], op, v));
            const answer = await signedSend(action, body).catch((err: Error) => {
              throw new Error(`${action} ${body.slice(0, 300)}: ${err.message}`);
            });
            expectWellFormed(answer, `${action} ${body.slice(0, 300)}`);
          },
        ),
        runs(60),
      );
    }
  }, 120_000);
});

test("the server answers normally after all of it", async () => {
  const a = await signedSend("ListClusters", "{}");
  expect(a.status).toBe(200);
  expect(JSON.parse(a.body)).toHaveProperty("clusterArns");
  expect(s.server.running()).toBe(true);
  expect(s.server.readLog()).not.toMatch(/"level":50.*"msg":"(handler failed|request failed outside the handler)"/);
});
