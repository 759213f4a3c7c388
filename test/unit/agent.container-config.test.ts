import { describe, expect, it } from "vitest";
import { labels } from "../../events/agent.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import type { ContainerDefinition } from "../../events/taskdef.shapes.ts";
import {
  type ContainerConfigContext,
  ContainerConfigError,
  containerConfig,
  DEFAULT_STOP_TIMEOUT_SECONDS,
  dockerVolumeName,
} from "../../services/agent/container-config.ts";

const MIB = 1024 * 1024;
const ctx: ContainerConfigContext = { instanceId: "inst1", cluster: "c1" };

function spec(containers: ContainerDefinition[], extra: Partial<TaskRuntimeSpec> = {}): TaskRuntimeSpec {
  return {
    taskArn: "arn:aws:ecs:us-east-1:000000000000:task/c1/abc",
    taskId: "abc",
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c1",
    cluster: "c1",
    taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/f:1",
    family: "f",
    revision: 1,
    launchType: "EC2",
    networkMode: "bridge",
    volumes: [],
    containers,
    ...extra,
  };
}

const def = (d: Partial<ContainerDefinition> = {}): ContainerDefinition => ({ name: "web", image: "busybox", ...d });
const config = (d: Partial<ContainerDefinition> = {}, extra: Partial<TaskRuntimeSpec> = {}, c = ctx) =>
  containerConfig(def(d), spec([def(d)], extra), c);

describe("containerConfig: identity", () => {
  it("names the container from the task id and labels it for reconcile", () => {
    const r = config({ dockerLabels: { team: "a", [labels.taskArn]: "spoofed" } });
    expect(r.name).toBe("berth-abc-web");
    expect(r.Image).toBe("busybox");
    expect(r.Labels).toEqual({
      team: "a",
      [labels.managed]: "true",
      [labels.taskArn]: "arn:aws:ecs:us-east-1:000000000000:task/c1/abc",
      [labels.taskId]: "abc",
      [labels.containerName]: "web",
      [labels.cluster]: "c1",
      [labels.instanceId]: "inst1",
    });
  });

  it("is pure: the same inputs give the same request", () => {
    expect(config({ cpu: 10 })).toEqual(config({ cpu: 10 }));
  });
});

describe("containerConfig: process", () => {
  it.each([
    ["command", { command: ["sh", "-c", "exit 3"] }, { Cmd: ["sh", "-c", "exit 3"] }],
    ["entryPoint", { entryPoint: ["/bin/sh"] }, { Entrypoint: ["/bin/sh"] }],
    [
      "environment",
      { environment: [{ name: "A", value: "1" }, { name: "B" }, { value: "x" }] },
      { Env: ["A=1", "B="] },
    ],
    ["workingDirectory", { workingDirectory: "/srv" }, { WorkingDir: "/srv" }],
    ["user", { user: "1000:1000" }, { User: "1000:1000" }],
    ["hostname (bridge)", { hostname: "h1" }, { Hostname: "h1" }],
  ] as const)("maps %s", (_n, d, expected) => {
    expect(config(d as Partial<ContainerDefinition>)).toMatchObject(expected);
  });

  it("drops hostname in host mode, where Docker refuses it", () => {
    expect(config({ hostname: "h1" }, { networkMode: "host" }).Hostname).toBeUndefined();
  });

  it("uses the definition's stopTimeout, else the agent's, else ECS's 30 s", () => {
    expect(config({ stopTimeout: 5 }, {}, { ...ctx, stopTimeoutSeconds: 9 }).StopTimeout).toBe(5);
    expect(config({}, {}, { ...ctx, stopTimeoutSeconds: 9 }).StopTimeout).toBe(9);
    expect(config().StopTimeout).toBe(DEFAULT_STOP_TIMEOUT_SECONDS);
  });
});

describe("containerConfig: resources (ECS agent on Linux)", () => {
  it.each([
    [undefined, 2],
    [0, 2],
    [1, 2],
    [2, 2],
    [128, 128],
    [1024, 1024],
  ])("cpu %s → CpuShares %s", (cpu, shares) => {
    expect(config(cpu === undefined ? {} : { cpu }).HostConfig.CpuShares).toBe(shares);
  });

  it("maps memory (hard) and memoryReservation (soft) from MiB to bytes", () => {
    const r = config({ memory: 512, memoryReservation: 256 });
    expect(r.HostConfig.Memory).toBe(512 * MIB);
    expect(r.HostConfig.MemoryReservation).toBe(256 * MIB);
  });

  it("caps each container at the task-level cpu and memory", () => {
    const r = config({}, { cpu: "512", memory: "1024" });
    expect(r.HostConfig.NanoCpus).toBe(0.5e9);
    expect(r.HostConfig.Memory).toBe(1024 * MIB);
  });

  it("keeps a container's own hard limit, and gives no hard limit to one with only a reservation", () => {
    expect(config({ memory: 128 }, { memory: "1024" }).HostConfig.Memory).toBe(128 * MIB);
    expect(config({ memoryReservation: 64 }, { memory: "1024" }).HostConfig.Memory).toBeUndefined();
  });

  it("sets no limits when none are given", () => {
    const r = config();
    expect(r.HostConfig.Memory).toBeUndefined();
    expect(r.HostConfig.MemoryReservation).toBeUndefined();
    expect(r.HostConfig.NanoCpus).toBeUndefined();
  });
});

describe("containerConfig: networking", () => {
  const ports = {
    portMappings: [
      { containerPort: 80, hostPort: 8080 },
      { containerPort: 53, protocol: "udp" as const },
    ],
  };

  it("bridge: static and dynamic host ports", () => {
    const r = config(ports);
    expect(r.HostConfig.NetworkMode).toBe("bridge");
    expect(r.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {} });
    expect(r.HostConfig.PortBindings).toEqual({ "80/tcp": [{ HostPort: "8080" }], "53/udp": [{ HostPort: "" }] });
  });

  it("host: no port bindings; none: no ports at all", () => {
    const host = config(ports, { networkMode: "host" });
    expect(host.HostConfig.NetworkMode).toBe("host");
    expect(host.HostConfig.PortBindings).toBeUndefined();
    const none = config(ports, { networkMode: "none" });
    expect(none.HostConfig.NetworkMode).toBe("none");
    expect(none.ExposedPorts).toBeUndefined();
  });

  it("links to the task's other containers by their Docker names (bridge only)", () => {
    expect(config({ links: ["db", "cache:redis"] }).HostConfig.Links).toEqual([
      "berth-abc-db:db",
      "berth-abc-cache:redis",
    ]);
    expect(config({ links: ["db"] }, { networkMode: "host" }).HostConfig.Links).toBeUndefined();
  });

  it("extraHosts, dns servers and search domains", () => {
    const r = config({
      extraHosts: [{ hostname: "db.local", ipAddress: "10.0.0.5" }],
      dnsServers: ["1.1.1.1"],
      dnsSearchDomains: ["example.com"],
    });
    expect(r.HostConfig.ExtraHosts).toEqual(["db.local:10.0.0.5"]);
    expect(r.HostConfig.Dns).toEqual(["1.1.1.1"]);
    expect(r.HostConfig.DnsSearch).toEqual(["example.com"]);
  });
});

describe("containerConfig: health, storage, security", () => {
  it("health check: CMD-SHELL kept, ECS defaults in nanoseconds", () => {
    expect(config({ healthCheck: { command: ["CMD-SHELL", "true"] } }).Healthcheck).toEqual({
      Test: ["CMD-SHELL", "true"],
      Interval: 30e9,
      Timeout: 5e9,
      Retries: 3,
      StartPeriod: 0,
    });
    expect(config({ healthCheck: { command: ["true"], interval: 5, retries: 1 } }).Healthcheck).toMatchObject({
      Test: ["CMD", "true"],
      Interval: 5e9,
      Retries: 1,
    });
  });

  it("mount points: host paths bind, Docker volumes by scope, volumesFrom by Docker name", () => {
    const volumes = [
      { name: "host", host: { sourcePath: "/srv/data" } },
      { name: "scratch", dockerVolumeConfiguration: { scope: "task" as const } },
      { name: "cache", dockerVolumeConfiguration: { scope: "shared" as const, autoprovision: true } },
      { name: "anon" },
    ];
    const r = config(
      {
        mountPoints: [
          { sourceVolume: "host", containerPath: "/data", readOnly: true },
          { sourceVolume: "scratch", containerPath: "/scratch" },
          { sourceVolume: "cache", containerPath: "/cache" },
          { sourceVolume: "anon", containerPath: "/anon" },
        ],
        volumesFrom: [{ sourceContainer: "other", readOnly: true }],
      },
      { volumes },
    );
    expect(r.HostConfig.Mounts).toEqual([
      { Type: "bind", Source: "/srv/data", Target: "/data", ReadOnly: true },
      { Type: "volume", Source: "berth-abc-scratch", Target: "/scratch", ReadOnly: false },
      { Type: "volume", Source: "cache", Target: "/cache", ReadOnly: false },
      { Type: "volume", Source: "berth-abc-anon", Target: "/anon", ReadOnly: false },
    ]);
    expect(r.HostConfig.VolumesFrom).toEqual(["berth-abc-other:ro"]);
    expect(dockerVolumeName("abc", volumes[2] as (typeof volumes)[number])).toBe("cache");
  });

  it("refuses a mount point of an undeclared volume", () => {
    expect(() => config({ mountPoints: [{ sourceVolume: "nope", containerPath: "/x" }] })).toThrow(
      ContainerConfigError,
    );
  });

  it("ulimits, read-only root, log configuration, capabilities, init, shm, tmpfs", () => {
    const r = config({
      ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 4096 }],
      readonlyRootFilesystem: true,
      logConfiguration: { logDriver: "json-file", options: { "max-size": "1m" } },
      linuxParameters: {
        capabilities: { add: ["NET_ADMIN"], drop: ["MKNOD"] },
        initProcessEnabled: true,
        sharedMemorySize: 64,
        tmpfs: [{ containerPath: "/run", size: 16, mountOptions: ["noexec"] }],
      },
    });
    expect(r.HostConfig).toMatchObject({
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 4096 }],
      ReadonlyRootfs: true,
      LogConfig: { Type: "json-file", Config: { "max-size": "1m" } },
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["MKNOD"],
      Init: true,
      ShmSize: 64 * MIB,
      Tmpfs: { "/run": "size=16m,noexec" },
    });
  });

  it("privileged only when the agent allows it", () => {
    expect(() => config({ privileged: true })).toThrow(/privileged/);
    expect(config({ privileged: true }, {}, { ...ctx, allowPrivileged: true }).HostConfig.Privileged).toBe(true);
  });
});
