// The compose → ECS translation (services/cli/compose/): pure functions, table-driven.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose files write ${VAR} in plain strings
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { interpolateString } from "../../services/cli/compose/interpolate.ts";
import { DEFAULT_MEMORY_RESERVATION, projectName, translate } from "../../services/cli/compose/translate.ts";
import { ComposeError, mebibytes, portMappings, seconds, shellWords } from "../../services/cli/compose/values.ts";

const env = { HOME: "/home/ops", TAG: "1.2", EMPTY: "", PASSTHROUGH: "from-shell" };

function tr(yaml: string, project = "shop") {
  return translate({ document: parse(yaml, { merge: true }), project, baseDir: "/srv/shop", env });
}

const container = (yaml: string, name = "app") => {
  const c = tr(yaml).taskDefinition.containerDefinitions.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
};

describe("translate: one task definition, one service", () => {
  it("maps the project to the family and service, each compose service to a container", () => {
    const t = tr(`
services:
  web: { image: "nginx:\${TAG}" }
  worker: { image: busybox }
`);
    expect(t.taskDefinition.family).toBe("shop");
    expect(t.taskDefinition.networkMode).toBe("bridge");
    expect(t.taskDefinition.containerDefinitions.map((c) => [c.name, c.image, c.essential])).toEqual([
      ["web", "nginx:1.2", true],
      ["worker", "busybox", true],
    ]);
    expect(t.service).toEqual({ serviceName: "shop", desiredCount: 1, schedulingStrategy: "REPLICA" });
    expect(t.warnings).toEqual([]);
  });

  it("takes the desired count from deploy.replicas (the largest, with a warning when they differ)", () => {
    expect(tr("services: { a: { image: x, deploy: { replicas: 3 } } }").service.desiredCount).toBe(3);
    const t = tr("services: { a: { image: x, deploy: { replicas: 2 } }, b: { image: y, deploy: { replicas: 4 } } }");
    expect(t.service.desiredCount).toBe(4);
    expect(t.warnings.join("\n")).toMatch(/replicas differs/);
  });

  it("runs deploy.mode global as a DAEMON service", () => {
    expect(tr("services: { a: { image: x, deploy: { mode: global } } }").service).toEqual({ serviceName: "shop", schedulingStrategy: "DAEMON" });
  });

  it("replaces tasks stop-first when a container publishes a fixed host port", () => {
    expect(tr("services: { a: { image: x, ports: ['8080:80'] } }").service.deploymentConfiguration).toEqual({ minimumHealthyPercent: 0, maximumPercent: 100 });
    expect(tr("services: { a: { image: x, ports: ['80'] } }").service.deploymentConfiguration).toBeUndefined();
  });
});

describe("translate: container settings", () => {
  it.each([
    ["command: httpd -f -p 8080", { command: ["httpd", "-f", "-p", "8080"] }],
    [`command: ["sh", "-c", "echo 'a b'"]`, { command: ["sh", "-c", "echo 'a b'"] }],
    [`command: sh -c "echo 'a b'; exit 1"`, { command: ["sh", "-c", "echo 'a b'; exit 1"] }],
    ["entrypoint: /bin/sh -c", { entryPoint: ["/bin/sh", "-c"] }],
    ["working_dir: /app", { workingDirectory: "/app" }],
    ["user: 1000", { user: "1000" }],
    ["hostname: api", { hostname: "api" }],
    ["mem_limit: 512m", { memory: 512 }],
    ["mem_limit: 1g", { memory: 1024 }],
    ["mem_reservation: 64m", { memoryReservation: 64 }],
    ["cpus: 0.5", { cpu: 512, memoryReservation: DEFAULT_MEMORY_RESERVATION }],
    ["cpu_shares: 256", { cpu: 256 }],
    ["deploy: { resources: { limits: { cpus: '1.5', memory: 256M }, reservations: { memory: 128m } } }", { cpu: 1536, memory: 256, memoryReservation: 128 }],
    ["labels: { a.b: c, n: 1 }", { dockerLabels: { "a.b": "c", n: "1" } }],
    ["labels: ['a=b', 'c']", { dockerLabels: { a: "b", c: "" } }],
    ["privileged: true", { privileged: true }],
    ["read_only: true", { readonlyRootFilesystem: true }],
    ["stop_grace_period: 1m30s", { stopTimeout: 90 }],
    ["extra_hosts: ['db:10.0.0.2']", { extraHosts: [{ hostname: "db", ipAddress: "10.0.0.2" }] }],
    ["dns: 1.1.1.1", { dnsServers: ["1.1.1.1"] }],
    ["tty: true", { pseudoTerminal: true }],
    ["init: true", { linuxParameters: { initProcessEnabled: true } }],
    ["cap_add: [NET_ADMIN]", { linuxParameters: { capabilities: { add: ["NET_ADMIN"] } } }],
    ["ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 64 }", { ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 2048 }, { name: "nproc", softLimit: 64, hardLimit: 64 }] }],
    ["logging: { driver: json-file, options: { max-size: 10m } }", { logConfiguration: { logDriver: "json-file", options: { "max-size": "10m" } } }],
    ["sysctls: { net.core.somaxconn: 1024 }", { systemControls: [{ namespace: "net.core.somaxconn", value: "1024" }] }],
  ])("%s", (line, expected) => {
    const c = container(`services:\n  app:\n    image: x\n    ${line}\n`);
    expect(c).toMatchObject(expected);
  });

  it("gives a container without any memory setting the default soft reservation", () => {
    const c = container("services: { app: { image: x } }");
    expect(c.memoryReservation).toBe(DEFAULT_MEMORY_RESERVATION);
    expect(c.memory).toBeUndefined();
  });

  it("reads environment in map and list form, passing names without a value through", () => {
    const map = container("services: { app: { image: x, environment: { A: 1, B: 'two words', C: true, PASSTHROUGH: null } } }");
    expect(map.environment).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "two words" },
      { name: "C", value: "true" },
      { name: "PASSTHROUGH", value: "from-shell" },
    ]);
    const list = tr("services: { app: { image: x, environment: ['A=1', 'B=x=y', 'PASSTHROUGH', 'NOT_SET'] } }");
    expect(list.taskDefinition.containerDefinitions[0]?.environment).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "x=y" },
      { name: "PASSTHROUGH", value: "from-shell" },
    ]);
    expect(list.warnings).toEqual(["services.app.environment.NOT_SET has no value and is not set in the environment — left out"]);
  });

  it("maps ports to bridge port mappings", () => {
    const c = container(`
services:
  app:
    image: x
    ports:
      - 80
      - "8080:80"
      - "127.0.0.1::9000"
      - "5353:53/udp"
      - "7000-7001:7000-7001"
      - { target: 443, published: 8443, protocol: tcp }
`);
    expect(c.portMappings).toEqual([
      { containerPort: 80, hostPort: 0, protocol: "tcp" },
      { containerPort: 80, hostPort: 8080, protocol: "tcp" },
      { containerPort: 9000, hostPort: 0, protocol: "tcp" },
      { containerPort: 53, hostPort: 5353, protocol: "udp" },
      { containerPort: 7000, hostPort: 7000, protocol: "tcp" },
      { containerPort: 7001, hostPort: 7001, protocol: "tcp" },
      { containerPort: 443, hostPort: 8443, protocol: "tcp" },
    ]);
  });

  it("maps healthcheck to healthCheck in whole seconds", () => {
    expect(container("services: { app: { image: x, healthcheck: { test: ['CMD', 'wget', '-q', 'localhost'], interval: 10s, timeout: 2s, retries: 5, start_period: 1m } } }").healthCheck).toEqual({
      command: ["CMD", "wget", "-q", "localhost"],
      interval: 10,
      timeout: 2,
      retries: 5,
      startPeriod: 60,
    });
    expect(container("services: { app: { image: x, healthcheck: { test: 'curl -f localhost' } } }").healthCheck).toEqual({ command: ["CMD-SHELL", "curl -f localhost"] });
    expect(container("services: { app: { image: x, healthcheck: { test: ['NONE'] } } }").healthCheck).toBeUndefined();
    expect(container("services: { app: { image: x, healthcheck: { disable: true } } }").healthCheck).toBeUndefined();
  });

  it("maps depends_on to dependsOn, making a SUCCESS dependency non-essential", () => {
    const t = tr(`
services:
  web: { image: x, depends_on: [db] }
  api: { image: x, depends_on: { db: { condition: service_healthy }, migrate: { condition: service_completed_successfully } } }
  db: { image: x }
  migrate: { image: x }
`);
    const byName = Object.fromEntries(t.taskDefinition.containerDefinitions.map((c) => [c.name, c]));
    expect(byName.web?.dependsOn).toEqual([{ containerName: "db", condition: "START" }]);
    expect(byName.api?.dependsOn).toEqual([
      { containerName: "db", condition: "HEALTHY" },
      { containerName: "migrate", condition: "SUCCESS" },
    ]);
    expect(byName.migrate?.essential).toBe(false);
    expect(byName.db?.essential).toBe(true);
  });

  it("maps named, bind and anonymous volumes", () => {
    const t = tr(`
services:
  app:
    image: x
    volumes:
      - data:/var/lib/data
      - ./conf:/etc/app:ro
      - ~/cache:/cache
      - /scratch
      - { type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock, read_only: true }
  other:
    image: y
    volumes: ["data:/data", "./conf:/conf"]
volumes:
  data: { driver_opts: { type: tmpfs } }
  shared: { external: true }
`);
    const [app, other] = t.taskDefinition.containerDefinitions;
    expect(app?.mountPoints).toEqual([
      { sourceVolume: "shop_data", containerPath: "/var/lib/data", readOnly: false },
      { sourceVolume: "bind_srv_shop_conf", containerPath: "/etc/app", readOnly: true },
      { sourceVolume: "bind_home_ops_cache", containerPath: "/cache", readOnly: false },
      { sourceVolume: "app-anonymous-3", containerPath: "/scratch", readOnly: false },
      { sourceVolume: "bind_var_run_docker-sock", containerPath: "/var/run/docker.sock", readOnly: true },
    ]);
    // The same named volume and host path are one task volume each, shared by both containers.
    expect(other?.mountPoints?.map((m) => m.sourceVolume)).toEqual(["shop_data", "bind_srv_shop_conf"]);
    expect(t.taskDefinition.volumes).toEqual([
      { name: "shop_data", dockerVolumeConfiguration: { scope: "shared", autoprovision: true, driver: "local", driverOpts: { type: "tmpfs" } } },
      { name: "bind_srv_shop_conf", host: { sourcePath: "/srv/shop/conf" } },
      { name: "bind_home_ops_cache", host: { sourcePath: "/home/ops/cache" } },
      { name: "app-anonymous-3", dockerVolumeConfiguration: { scope: "task", driver: "local" } },
      { name: "bind_var_run_docker-sock", host: { sourcePath: "/var/run/docker.sock" } },
    ]);
  });

  it("uses an external volume as it is named, never creating it", () => {
    const t = tr("services: { app: { image: x, volumes: ['shared:/s'] } }\nvolumes: { shared: { external: true } }");
    expect(t.taskDefinition.volumes).toEqual([{ name: "shared", dockerVolumeConfiguration: { scope: "shared", autoprovision: false, driver: "local" } }]);
  });
});

describe("translate: unsupported keys are named, one warning each", () => {
  it("warns about every unsupported key, top level, service and nested", () => {
    const t = tr(`
version: "3.9"
x-common: &common { image: x }
networks: { front: {} }
secrets: { s: { file: ./s } }
services:
  app:
    <<: *common
    build: .
    restart: always
    container_name: app1
    env_file: .env
    ports: [{ target: 80, published: 8080, host_ip: 127.0.0.1, app_protocol: http }]
    deploy: { replicas: 2, update_config: { parallelism: 1 }, resources: { limits: { pids: 10 } } }
    healthcheck: { test: "true", start_interval: 1s }
    x-note: ignored silently
`);
    expect(t.warnings).toEqual([
      "networks is not supported: the containers of the task share its bridge network (use links)",
      "secrets is not supported",
      "services.app.build is not supported: Berth runs images; build and tag the image, then name it under image:",
      "services.app.restart is not supported: ECS services replace stopped tasks themselves",
      "services.app.container_name is not supported: ECS names containers after the task",
      "services.app.env_file is not supported: put the variables under environment:",
      "services.app.ports[0].app_protocol is not supported — ignored",
      "services.app.ports[0] binds host address 127.0.0.1, which ECS port mappings cannot express — published on every address instead",
      "services.app.deploy.update_config is not supported — ignored",
      "services.app.deploy.resources.limits.pids is not supported — ignored",
      "services.app.healthcheck.start_interval is not supported — ignored",
    ]);
    expect(t.service.desiredCount).toBe(2);
  });

  it("reports variables that are not set", () => {
    expect(tr("services: { app: { image: 'x:${NOPE}' } }").warnings).toEqual(["variable NOPE is not set; substituted with an empty string"]);
  });
});

describe("translate: files that cannot run", () => {
  it.each([
    ["services: {}", /defines no services/],
    ["services: { app: { build: . } }", /services\.app\.image is required.*build: is not supported/],
    ["services: { app: { image: x, depends_on: [nope] } }", /nope is not a service/],
    ["services: { app: { image: x, volumes: ['undeclared:/x'] } }", /not declared under the top-level volumes/],
    ["services: { app: { image: x, mem_limit: lots } }", /services\.app\.mem_limit.*not a byte size/],
    ["services: { app: { image: x, ports: ['80:80:80:80'] } }", /not a port spec/],
    ["services: { a: { image: x, network_mode: host }, b: { image: y } }", /network_mode differs/],
    ["services: { app: { image: 'x:${REQUIRED:?set it}' } }", /required variable REQUIRED is not set: set it/],
    ["services: { 'my.app': { image: x } }", /container names/],
  ])("%s", (yaml, message) => {
    expect(() => tr(yaml)).toThrow(ComposeError);
    expect(() => tr(yaml)).toThrow(message);
  });
});

describe("compose value formats", () => {
  it.each([
    [268435456, 256],
    ["512m", 512],
    ["512MB", 512],
    ["1.5g", 1536],
    ["1024k", 1],
    ["1000", 1],
  ])("mebibytes(%j) = %d", (v, mib) => expect(mebibytes(v, "x")).toBe(mib));

  it.each([
    ["30s", 30],
    ["1m30s", 90],
    ["1h", 3600],
    ["500ms", 0.5],
    [15, 15],
  ])("seconds(%j) = %d", (v, s) => expect(seconds(v, "x")).toBe(s));

  it("refuses durations without units", () => expect(() => seconds("10 minutes", "x")).toThrow(ComposeError));

  it.each([
    ["a b  c", ["a", "b", "c"]],
    [`sh -c 'echo "$X"'`, ["sh", "-c", 'echo "$X"']],
    [`echo "a \\"b\\"" c\\ d`, ["echo", 'a "b"', "c d"]],
    [`x ''`, ["x", ""]],
  ])("shellWords(%j)", (text, words) => expect(shellWords(text, "x")).toEqual(words));

  it("refuses an unterminated quote", () => expect(() => shellWords("echo 'oops", "x")).toThrow(/unterminated/));

  it("refuses mismatched port ranges", () => expect(() => portMappings("8000-8002:80-81", "p", () => {})).toThrow(/ranges differ/));

  it.each([
    ["$TAG", "1.2"],
    ["${TAG}", "1.2"],
    ["${EMPTY:-dflt}", "dflt"],
    ["${EMPTY-dflt}", ""],
    ["${UNSET-dflt}", "dflt"],
    ["${TAG:+set}", "set"],
    ["${UNSET+set}", ""],
    ["$$TAG costs $$5", "$TAG costs $5"],
  ])("interpolateString(%j) = %j", (text, out) => expect(interpolateString(text, env, "x", () => {})).toBe(out));
});

describe("projectName", () => {
  it("prefers --project, then $COMPOSE_PROJECT_NAME, then name:, then the folder", () => {
    expect(projectName({ flag: "Shop_1", env: { COMPOSE_PROJECT_NAME: "env" }, document: { name: "doc" }, dirName: "dir" })).toBe("shop_1");
    expect(projectName({ env: { COMPOSE_PROJECT_NAME: "env" }, document: { name: "doc" }, dirName: "dir" })).toBe("env");
    expect(projectName({ env: {}, document: { name: "doc" }, dirName: "dir" })).toBe("doc");
    expect(projectName({ env: {}, document: {}, dirName: "My App.v2" })).toBe("myappv2");
    expect(() => projectName({ env: {}, dirName: "..." })).toThrow(ComposeError);
  });
});
