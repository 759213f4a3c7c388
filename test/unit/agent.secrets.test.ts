import { describe, expect, it } from "vitest";
import { taskSecretRefs } from "../../events/agent.ts";
import { containerConfig, hostAccessRefusal } from "../../services/agent/container-config.ts";
import {
  normalizeRegistry,
  parseRegistryAuth,
  pullCredentials,
  RegistryAuthError,
  registryOf,
  repositoryCredentials,
} from "../../services/agent/registry-auth.ts";
import { shouldRestart } from "../../services/agent/restart-policy.ts";
import { parseSecretRef, SecretError } from "../../services/control-plane/secrets.ts";
import { agreedKey, ephemeralKeys, open, SealError, seal } from "../../services/security/sealed.ts";
import { taskSpec } from "../support/agent-driver.ts";

const ctx = { instanceId: "i-1", cluster: "c1" };

describe("secret references", () => {
  it.each([
    ["db-password", { names: ["db-password"] }],
    ["/prod/db", { names: ["/prod/db"] }],
    ["arn:aws:secretsmanager:us-east-1:000000000000:secret:db", { names: ["db"] }],
    // A full ARN carries Secrets Manager's random suffix; the name is tried with and without it.
    ["arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbC123", { names: ["db-AbC123", "db"] }],
    ["arn:aws:secretsmanager:eu-west-1:1:secret:creds:password::", { names: ["creds"], jsonKey: "password" }],
    ["arn:aws:secretsmanager:eu-west-1:1:secret:creds:password:AWSCURRENT:", { names: ["creds"], jsonKey: "password" }],
    ["arn:aws:ssm:us-east-1:000000000000:parameter/token", { names: ["token"] }],
    ["arn:aws:ssm:us-east-1:000000000000:parameter/prod/db/pass", { names: ["/prod/db/pass"] }],
  ])("%s", (valueFrom, want) => {
    expect(parseSecretRef(valueFrom)).toEqual(want);
  });

  it.each([
    "arn:aws:secretsmanager:us-east-1:1:secret:db::AWSPREVIOUS:",
    "arn:aws:secretsmanager:us-east-1:1:secret:db:::0123-version",
    "has space",
    "",
  ])("refuses %j", (valueFrom) => {
    expect(() => parseSecretRef(valueFrom)).toThrow(SecretError);
  });

  it("a task's references: secrets, secretOptions and repositoryCredentials, each once", () => {
    const spec = taskSpec({
      cluster: "c1",
      containers: [
        { name: "a", secrets: [{ name: "X", valueFrom: "s1" }], repositoryCredentials: { credentialsParameter: "reg" } },
        {
          name: "b",
          secrets: [{ name: "Y", valueFrom: "s1" }],
          logConfiguration: { logDriver: "splunk", secretOptions: [{ name: "splunk-token", valueFrom: "s2" }] },
        },
      ],
    });
    expect(taskSecretRefs(spec)).toEqual(["s1", "reg", "s2"]);
  });
});

describe("sealed boxes", () => {
  it("open only with the same key and additional data", () => {
    const key = Buffer.alloc(32, 7);
    const box = seal(key, "s3cr3t", "name-a");
    expect(JSON.stringify(box)).not.toContain("s3cr3t");
    expect(open(key, box, "name-a")).toBe("s3cr3t");
    expect(() => open(key, box, "name-b")).toThrow(SealError);
    expect(() => open(Buffer.alloc(32, 8), box, "name-a")).toThrow(SealError);
  });

  it("two ephemeral key pairs agree on one key; a third party's does not open the box", () => {
    const agent = ephemeralKeys();
    const cp = ephemeralKeys();
    const eve = ephemeralKeys();
    const box = seal(agreedKey(cp.privateKey, agent.publicKey, "task"), "v", "task");
    expect(open(agreedKey(agent.privateKey, cp.publicKey, "task"), box, "task")).toBe("v");
    expect(() => open(agreedKey(eve.privateKey, cp.publicKey, "task"), box, "task")).toThrow(SealError);
    expect(() => agreedKey(agent.privateKey, Buffer.from("junk").toString("base64"), "task")).toThrow(SealError);
  });
});

describe("registry credentials", () => {
  it.each([
    ["busybox", "docker.io"],
    ["library/busybox:1", "docker.io"],
    ["myorg/app", "docker.io"],
    ["127.0.0.1:5000/x/busybox:v1", "127.0.0.1:5000"],
    ["localhost/app", "localhost"],
    ["Registry.Example.com/team/app@sha256:abc", "registry.example.com"],
  ])("%s pulls from %s", (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });

  it("normalises configured hosts", () => {
    expect(normalizeRegistry("https://index.docker.io/v1/")).toBe("docker.io");
    expect(normalizeRegistry("http://127.0.0.1:5000/")).toBe("127.0.0.1:5000");
  });

  it("reads ECS's docker and dockercfg types and Docker's config.json", () => {
    const auth = Buffer.from("u2:p:2").toString("base64");
    const m = parseRegistryAuth(
      JSON.stringify({ "127.0.0.1:5000": { username: "u1", password: "p1" }, "https://index.docker.io/v1/": { auth } }),
      "f",
    );
    expect(m.get("127.0.0.1:5000")).toEqual({ username: "u1", password: "p1" });
    expect(m.get("docker.io")).toEqual({ username: "u2", password: "p:2" });
    expect(parseRegistryAuth(JSON.stringify({ auths: { "r.example": { auth } } }), "f").get("r.example")?.username).toBe("u2");
  });

  it("errors name the registry, never the content", () => {
    const err = (() => {
      try {
        parseRegistryAuth(JSON.stringify({ "r.example": { username: "only-user-sekrit" } }), "f");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(err?.message).toContain("r.example");
    expect(err?.message).not.toContain("sekrit");
    expect(() => repositoryCredentials("not json sekrit", "arn:reg")).toThrow(/arn:reg/);
    expect(() => repositoryCredentials("not json sekrit", "arn:reg")).not.toThrow(/sekrit/);
  });

  it("the task's credentials win over the agent's; Docker Hub gets Docker's server address", () => {
    const configured = new Map([["127.0.0.1:5000", { username: "agent", password: "a" }]]);
    expect(pullCredentials("127.0.0.1:5000/app", configured)).toEqual({ username: "agent", password: "a", serveraddress: "127.0.0.1:5000" });
    expect(pullCredentials("127.0.0.1:5000/app", configured, { username: "task", password: "t" })?.username).toBe("task");
    expect(pullCredentials("other.example/app", configured)).toBeUndefined();
    expect(pullCredentials("app", new Map(), { username: "u", password: "p" })?.serveraddress).toBe("https://index.docker.io/v1/");
  });
});

describe("restart policy", () => {
  const base = { policy: { enabled: true, restartAttemptPeriod: 60 }, exitCode: 1, startedAt: 0, lastRestartAt: undefined, stopRequested: false };
  it.each([
    ["ran long enough", { now: 60_000 }, true],
    ["exited too soon", { now: 59_999 }, false],
    ["ignored exit code", { now: 120_000, exitCode: 0, policy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 60 } }, false],
    ["period counted from the last restart", { now: 100_000, lastRestartAt: 50_000 }, false],
    ["the task is stopping", { now: 120_000, stopRequested: true }, false],
    ["disabled", { now: 120_000, policy: { enabled: false } }, false],
    ["default period is 300 s", { now: 299_000, policy: { enabled: true } }, false],
  ])("%s", (_what, change, restart) => {
    expect(shouldRestart({ ...base, ...change }).restart).toBe(restart);
  });
});

describe("host access", () => {
  const none = { privileged: false, hostNetwork: false, hostMounts: false };
  const all = { privileged: true, hostNetwork: true, hostMounts: true };
  it("refuses privileged containers, host networking and host bind mounts unless allowed", () => {
    const priv = taskSpec({ cluster: "c", containers: [{ name: "a", privileged: true }] });
    const host = taskSpec({ cluster: "c", networkMode: "host", containers: [{ name: "a" }] });
    const bind = taskSpec({ cluster: "c", volumes: [{ name: "v", host: { sourcePath: "/etc" } }], containers: [{ name: "a" }] });
    const docker = taskSpec({ cluster: "c", volumes: [{ name: "v", host: {} }], containers: [{ name: "a" }] });
    expect(hostAccessRefusal(priv, none)).toMatch(/^CannotCreateContainerError: privileged containers are disabled.*--allow-privileged/);
    expect(hostAccessRefusal(host, none)).toMatch(/^CannotCreateContainerError: the host network mode is disabled.*--allow-host-network/);
    expect(hostAccessRefusal(bind, none)).toMatch(/^CannotCreateContainerError: host bind mounts \(volume v: \/etc\).*--allow-host-mounts/);
    expect(hostAccessRefusal(docker, none)).toBeUndefined(); // a Docker-managed path, not the host's
    for (const spec of [priv, host, bind]) expect(hostAccessRefusal(spec, all)).toBeUndefined();
  });
});

describe("secrets in the container config", () => {
  it("secrets become environment (over a same-named variable); secretOptions become log options", () => {
    const spec = taskSpec({
      cluster: "c",
      containers: [
        {
          name: "a",
          environment: [
            { name: "A", value: "1" },
            { name: "TOKEN", value: "plain" },
          ],
          secrets: [{ name: "TOKEN", valueFrom: "tok" }],
          logConfiguration: { logDriver: "json-file", options: { "max-size": "1m" }, secretOptions: [{ name: "tag", valueFrom: "t" }] },
        },
      ],
    });
    const def = spec.containers[0] as (typeof spec.containers)[number];
    const req = containerConfig(def, spec, { ...ctx, secrets: new Map([["tok", "s3cr3t"], ["t", "tagged"]]) });
    expect(req.Env).toEqual(["A=1", "TOKEN=s3cr3t"]);
    expect(req.HostConfig.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "1m", tag: "tagged" } });
    expect(JSON.stringify(req.Labels)).not.toContain("s3cr3t");
    expect(() => containerConfig(def, spec, ctx)).toThrow(/the secret tok was not resolved/);
  });
});
