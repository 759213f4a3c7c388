import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ORPHANED_REASON } from "../../services/control-plane/agents.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { dockerClient, TEST_IMAGE } from "../support/docker.ts";
import { type ManagedProcess, spawnBerth } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

let b: BerthFixture;
let agent2: ManagedProcess | undefined;
let agent2Args: string[];
let agent2Dir: string;
const agent2Env = { BERTH_LOG_FORMAT: "json", BERTH_CONTAINER_STOP_TIMEOUT: "1" };

beforeAll(async () => {
  b = await startBerth("t-lost");
  agent2Dir = mkdtempSync(join(tmpdir(), "agent2-"));
  agent2Args = ["agent", "--nats", b.nats.url, "--cluster", b.cluster, "--data-dir", agent2Dir, "--name", `${b.cluster}-2`];
  agent2 = spawnBerth(agent2Args, { name: `${b.cluster}-agent2`, env: agent2Env });
  await waitFor(
    async () => ((await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }))).containerInstanceArns?.length === 2 ? true : undefined),
    { timeoutMs: 60_000, what: "two registered instances" },
  );
});
afterAll(async () => {
  if (b?.agent.running()) process.kill(b.agent.pid, "SIGCONT");
  await agent2?.stop().catch(() => {});
  await b?.close();
});

test("an agent paused past the lost-agent timeout: its service task is replaced once, and its stale container stopped when it returns", { timeout: 240_000 }, async () => {
  const td = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "lost",
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 8, stopTimeout: 1 }],
    }),
  );
  await b.ecs.send(
    new CreateServiceCommand({
      cluster: b.cluster,
      serviceName: "lost",
      taskDefinition: td.taskDefinition?.taskDefinitionArn,
      desiredCount: 2,
      // The default spread puts one task on each instance; the replacement may then share the survivor.
    }),
  );
  const running = () =>
    waitFor(
      async () => {
        const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["lost"] }))).services?.[0];
        return s?.runningCount === 2 && s.pendingCount === 0 ? s : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: "service lost at 2 RUNNING" },
    );
  await running();
  const instances = (await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }))).containerInstanceArns ?? [];
  const tasksBefore = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: "lost" }))).taskArns ?? [];
  expect(tasksBefore).toHaveLength(2);

  // Pause agent 1 (the fixture's): its heartbeats stop, its containers keep running.
  process.kill(b.agent.pid, "SIGSTOP");
  const lostInstance = await waitFor(
    async () => {
      const d = await b.ecs.send(new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: instances }));
      return d.containerInstances?.find((i) => i.agentConnected === false);
    },
    { timeoutMs: 60_000, intervalMs: 500, what: "an instance marked agentConnected=false" },
  );
  const onLost = await waitFor(
    async () => {
      const all = await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: "lost", desiredStatus: "STOPPED" }));
      return all.taskArns?.length === 1 ? all.taskArns[0] : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: "the task on the lost instance written off" },
  );
  const stale = await b.task(onLost);
  expect(stale.containerInstanceArn).toBe(lostInstance.containerInstanceArn);
  // Replaced exactly once, on the other instance.
  await waitFor(
    async () => {
      const live = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: "lost" }))).taskArns ?? [];
      return live.length === 2 && !live.includes(onLost) ? live : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: "a replacement task" },
  );
  // The service counts the tasks it keeps: the replacement and the survivor, not the written-off
  // task, which the paused agent last reported RUNNING.
  await running();
  expect((await b.task(onLost)).lastStatus).toBe("RUNNING");
  const staleId = onLost.split("/").pop() as string;
  expect((await dockerClient().listContainers({ filters: { label: [`berth.task-id=${staleId}`] } })).length).toBe(1);

  // The agent returns: it reconnects and stops the container of the task that was replaced.
  process.kill(b.agent.pid, "SIGCONT");
  await b.waitTask(onLost, "STOPPED after the agent returned", (t) => t.lastStatus === "STOPPED", 90_000);
  await waitFor(async () => ((await dockerClient().listContainers({ filters: { label: [`berth.task-id=${staleId}`] } })).length === 0 ? true : undefined), {
    timeoutMs: 60_000,
    what: "the stale container gone",
  });
  await waitFor(
    async () => {
      const d = await b.ecs.send(new DescribeContainerInstancesCommand({ cluster: b.cluster, containerInstances: [lostInstance.containerInstanceArn!] }));
      return d.containerInstances?.[0]?.agentConnected === true ? true : undefined;
    },
    { timeoutMs: 60_000, what: "the agent connected again" },
  );
  const final = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: "lost" }))).taskArns ?? [];
  expect(final).toHaveLength(2);
});

test("a host deregistered with force: its tasks STOPPED and replaced, its live agent stops their containers and exits, and restarted it is told the instance is gone", { timeout: 240_000 }, async () => {
  const instances = (await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }))).containerInstanceArns ?? [];
  const saved = JSON.parse(readFileSync(join(agent2Dir, `agent-${b.cluster}-2.json`), "utf8")) as { instanceId: string };
  const second = { containerInstanceArn: instances.find((a) => a.endsWith(`/${saved.instanceId}`)) };
  const first = instances.find((a) => a !== second.containerInstanceArn);
  expect(second.containerInstanceArn).toBeDefined();
  // The service of the first test keeps two tasks; spread puts one of them on the second instance.
  const onSecond = await waitFor(
    async () => {
      const arns = (await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: "lost" }))).taskArns ?? [];
      const tasks = arns.length ? ((await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }))).tasks ?? []) : [];
      return tasks.find((t) => t.containerInstanceArn === second.containerInstanceArn && t.lastStatus === "RUNNING");
    },
    { timeoutMs: 90_000, intervalMs: 250, what: "a service task RUNNING on the second instance" },
  );
  const taskId = onSecond.taskArn?.split("/").pop() as string;

  await b.ecs.send(
    new DeregisterContainerInstanceCommand({ cluster: b.cluster, containerInstance: second.containerInstanceArn, force: true }),
  );
  // The service's task too is stopped as orphaned, whoever of the scheduler and the deregistration comes first.
  const stopped = await b.task(onSecond.taskArn as string);
  expect([stopped.lastStatus, stopped.stopCode, stopped.stoppedReason]).toEqual(["STOPPED", "UserInitiated", ORPHANED_REASON]);
  await waitFor(
    async () => {
      const s = (await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: ["lost"] }))).services?.[0];
      return s?.runningCount === 2 ? s : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: "the service back at 2 RUNNING" },
  );
  // Its agent is still there and gets the stop: the container goes.
  await waitFor(
    async () => ((await dockerClient().listContainers({ filters: { label: [`berth.task-id=${taskId}`] } })).length === 0 ? true : undefined),
    { timeoutMs: 60_000, what: "the orphaned task's container stopped by its agent" },
  );

  // Told by its next heartbeat's answer that the instance is gone, the agent exits with ECS's terminal status.
  const told = await (agent2 as ManagedProcess).exited;
  expect(told.code, agent2?.readLog()).toBe(5);
  expect(agent2?.readLog()).toContain("this container instance was deregistered: stopping its tasks and the agent.");
  expect(agent2?.readLog()).toContain(`berth agent: container instance ${second.containerInstanceArn} was deregistered`);

  // Restarted, the agent asks to register the instance again: refused for good, it says what to do.
  agent2 = spawnBerth(agent2Args, { name: `${b.cluster}-agent2-again`, env: agent2Env });
  const exit = await agent2.exited;
  expect(exit.code, agent2.readLog()).toBe(1);
  expect(agent2.readLog()).toContain(`The container instance ${second.containerInstanceArn} was deregistered and cannot register again.`);
  expect(agent2.readLog()).toMatch(/To register this host as a new container instance, remove \S+agent-\S+\.json and start the agent again/);
  expect((await b.ecs.send(new ListContainerInstancesCommand({ cluster: b.cluster }))).containerInstanceArns).toEqual([first]);
});
