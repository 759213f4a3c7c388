import {
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
} from "@aws-sdk/client-ecs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { streams, subjects } from "../../events/names.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { dockerClient, TEST_IMAGE } from "../support/docker.ts";

let b: BerthFixture;

beforeAll(async () => {
  b = await startBerth("t-life");
});
afterAll(async () => {
  await b?.close();
});

const container = (name: string, command: string[], extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
  name,
  image: TEST_IMAGE,
  command,
  memory: 32,
  stopTimeout: 2,
  ...extra,
});

async function register(family: string, containers: ContainerDefinition[]) {
  const r = await b.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: containers }));
  return r.taskDefinition?.taskDefinitionArn as string;
}

async function run(taskDefinition: string) {
  const r = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition }));
  expect(r.failures).toEqual([]);
  const t = r.tasks?.[0];
  expect(t?.lastStatus).toBe("PENDING");
  expect(t?.desiredStatus).toBe("RUNNING");
  return t?.taskArn as string;
}

async function dockerContainersOf(taskArn: string) {
  const id = taskArn.split("/").pop() as string;
  return dockerClient().listContainers({ all: true, filters: { label: [`berth.task-id=${id}`] } });
}

describe("task lifecycle on real Docker through the AWS SDK", () => {
  test("a container that exits 3 stops the task with exitCode 3 and EssentialContainerExited", async () => {
    const td = await register("exit3", [container("app", ["sh", "-c", "exit 3"])]);
    const arn = await run(td);
    const t = await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(t.stopCode).toBe("EssentialContainerExited");
    expect(t.stoppedReason).toBe("Essential container in task exited");
    expect(t.containers?.[0]?.exitCode).toBe(3);
    expect(t.containers?.[0]?.lastStatus).toBe("STOPPED");
    expect(t.stoppedAt).toBeInstanceOf(Date);
  });

  test("a long-running task reaches RUNNING; StopTask stops it with UserInitiated and removes its containers", async () => {
    const td = await register("sleeper", [container("app", ["sleep", "3600"])]);
    const arn = await run(td);
    const running = await b.waitTask(arn, "RUNNING", (t) => t.lastStatus === "RUNNING");
    expect(running.containers?.[0]?.runtimeId).toMatch(/^[0-9a-f]{64}$/);
    expect(running.startedAt).toBeInstanceOf(Date);
    const stopped = await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn, reason: "done here" }));
    expect(stopped.task?.desiredStatus).toBe("STOPPED");
    const t = await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");
    expect(t.stopCode).toBe("UserInitiated");
    expect(t.stoppedReason).toBe("done here");
    await expect.poll(async () => (await dockerContainersOf(arn)).length, { timeout: 30_000 }).toBe(0);
  });

  test("in a two-container task, the non-essential container exiting leaves the task RUNNING", async () => {
    const td = await register("sidecar", [
      container("app", ["sleep", "3600"]),
      container("init", ["sh", "-c", "exit 0"], { essential: false }),
    ]);
    const arn = await run(td);
    const t = await b.waitTask(arn, "RUNNING with its sidecar exited", (t) =>
      t.lastStatus === "RUNNING" && t.containers?.find((c) => c.name === "init")?.lastStatus === "STOPPED",
    );
    expect(t.containers?.find((c) => c.name === "init")?.exitCode).toBe(0);
    expect(t.containers?.find((c) => c.name === "app")?.lastStatus).toBe("RUNNING");
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: arn }));
    await b.waitTask(arn, "STOPPED", (t) => t.lastStatus === "STOPPED");
  });

  test("kill -9 of the control plane: a running task is still RUNNING after restart, and an exit during the outage is reported", async () => {
    const td = await register("survivor", [container("app", ["sleep", "3600"])]);
    const keeps = await run(td);
    const dies = await run(td);
    await b.waitTask(keeps, "RUNNING", (t) => t.lastStatus === "RUNNING");
    await b.waitTask(dies, "RUNNING", (t) => t.lastStatus === "RUNNING");

    await b.server.kill9();
    const [victim] = await dockerContainersOf(dies);
    await dockerClient().getContainer(victim!.Id).kill({ signal: "SIGKILL" });
    await b.startServer();

    expect((await b.task(keeps)).lastStatus).toBe("RUNNING");
    const t = await b.waitTask(dies, "STOPPED after the restart", (t) => t.lastStatus === "STOPPED");
    expect(t.containers?.[0]?.exitCode).toBe(137);
    expect(t.stopCode).toBe("EssentialContainerExited");
    await b.ecs.send(new StopTaskCommand({ cluster: b.cluster, task: keeps }));
  });

  test("RunTask that fits nowhere returns ECS's failure reasons and places nothing", async () => {
    const big = await register("too-big-mem", [container("app", ["true"], { memory: 10_000_000 })]);
    const r1 = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: big }));
    expect(r1.tasks).toEqual([]);
    expect(r1.failures?.[0]?.reason).toBe("RESOURCE:MEMORY");
    expect(r1.failures?.[0]?.arn).toMatch(/:container-instance\//);
    const cpu = await register("too-big-cpu", [container("app", ["true"], { cpu: 1_000_000 })]);
    const r2 = await b.ecs.send(new RunTaskCommand({ cluster: b.cluster, taskDefinition: cpu, count: 2 }));
    expect(r2.tasks).toEqual([]);
    expect(r2.failures?.map((f) => f.reason)).toEqual(["RESOURCE:CPU", "RESOURCE:CPU"]);
  });

  test("invalid task definitions are refused with ECS's errors and leave nothing in the log", async () => {
    const nc = await connect({ servers: b.nats.url });
    const jsm = await jetstreamManager(nc);
    // Task definition events only: the agent may report on earlier tasks meanwhile.
    const taskdefEvents = async () =>
      Object.values((await jsm.streams.info(streams.events, { subjects_filter: subjects.eventsOfKind("taskdef") })).state.subjects ?? {}).reduce(
        (n, c) => n + c,
        0,
      );
    const before = await taskdefEvents();
    expect(before).toBeGreaterThan(0); // the earlier tests registered some: the count sees them
    const attempts: [string, Record<string, unknown>][] = [
      ["no containers", { family: "empty", containerDefinitions: [] }],
      ["eleven containers", { family: "eleven", containerDefinitions: Array.from({ length: 11 }, (_, i) => container(`c${i}`, ["true"])) }],
      ["bad family", { family: "bad family!", containerDefinitions: [container("app", ["true"])] }],
    ];
    for (const [what, input] of attempts) {
      const err = await b.ecs.send(new RegisterTaskDefinitionCommand(input as never)).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.name, what).toMatch(/^(ClientException|InvalidParameterException)$/);
    }
    expect(await taskdefEvents()).toBe(before);
    await nc.close();
  });
});
