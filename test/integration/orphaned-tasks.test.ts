// A container instance deregistered with force leaves its tasks STOPPED. DeregisterContainerInstance
// stops them itself (test/e2e/api-contract.instances.test.ts); here the control plane is taken to
// have failed in between — the deregistration in the log, the tasks still live — and the
// lost-agent sweep finishes the job, against a real nats-server.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { subjects } from "../../events/names.ts";
import type { TaskCreated } from "../../events/task.events.ts";
import { decideInstance, initialInstance } from "../../machines/instance/instance.decide.ts";
import { decideTask, initialTask } from "../../machines/task/task.decide.ts";
import { AgentGateway, ORPHANED_REASON, registerInstance } from "../../services/control-plane/agents.ts";
import { CommandBus } from "../../services/control-plane/commands.ts";
import { ReadModel } from "../../services/control-plane/read-model.ts";
import { EventStore } from "../../services/store/event-store.ts";
import { JetStreamPublisher } from "../../services/store/js-publisher.ts";
import { LogFollower } from "../../services/store/log-follower.ts";
import { ensureStreams } from "../../services/store/topology.ts";
import { type NatsServerHandle, startNatsServer } from "../support/nats-server.ts";

const log = pino({ level: "silent" });
const REGION = "us-east-1";
const ACCOUNT = "000000000000";
let server: NatsServerHandle;
let nc: NatsConnection;
let follower: LogFollower;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  await ensureStreams(await jetstreamManager(nc));
});

afterAll(async () => {
  await follower?.stop();
  await nc?.close();
  await server?.stop();
});

function taskCreated(taskId: string, instanceId: string): TaskCreated {
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/${taskId}`;
  return {
    type: "TaskCreated",
    at: Date.now(),
    taskArn,
    containerInstanceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/default/${instanceId}`,
    instanceId,
    group: "family:web",
    overrides: {},
    tags: [],
    enableExecuteCommand: false,
    reservation: { cpu: 0, memory: 16, ports: [], portsUdp: [] },
    containers: [{ name: "app", containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/default/${taskId}/app` }],
    spec: {
      taskArn,
      taskId,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default`,
      cluster: "default",
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:1`,
      family: "web",
      revision: 1,
      launchType: "EC2",
      networkMode: "bridge",
      volumes: [],
      containers: [{ name: "app", image: "busybox", memory: 16, essential: true }],
    },
    initialStatus: "PENDING",
  };
}

test("an INACTIVE instance still holding tasks: the lost-agent sweep stops them as orphaned", async () => {
  const store = new EventStore(nc, jetstream(nc), await jetstreamManager(nc), log);
  const model = new ReadModel(log);
  follower = new LogFollower(nc, log, (m) => model.apply(m.seq, m.subject, m.data));
  await follower.start(1);
  const bus = new CommandBus(store, follower, log, "test");
  let n = 0;
  const ids = { hex32: () => (++n).toString(16).padStart(32, "0"), uuid: () => crypto.randomUUID() };
  const deps = { nc, publisher: new JetStreamPublisher(nc), model, bus, log, account: ACCOUNT, clock: Date.now, ids };

  const reg = await registerInstance(deps, REGION, {
    cluster: "default",
    hostname: "gone-for-good",
    totalResources: [
      { name: "CPU", type: "INTEGER", integerValue: 1024 },
      { name: "MEMORY", type: "INTEGER", integerValue: 512 },
    ],
    attributes: [],
    versionInfo: {},
    capacity: ["EC2"],
  });
  if (!reg.ok) throw new Error(reg.message);
  const instance = subjects.instance(REGION, "default", reg.instanceId);
  const tasks = ["a", "b"].map((k) => k.repeat(32));
  for (const taskId of tasks) {
    const subject = subjects.task(REGION, "default", taskId);
    const r = await bus.execute({
      subject,
      resource: taskId,
      get: () => model.tasks.get(subject),
      initial: initialTask,
      decide: (s) => decideTask({ type: "CreateTask", event: taskCreated(taskId, reg.instanceId) }, s),
    });
    expect(r.ok).toBe(true);
  }
  expect(model.liveTasksByInstance.get(instance)?.size).toBe(2);

  // The deregistration recorded, and nothing after it: as if the control plane died right then.
  const dereg = await bus.execute({
    subject: instance,
    resource: reg.containerInstanceArn,
    get: () => model.instances.get(instance),
    initial: initialInstance,
    decide: (s) => decideInstance({ type: "Deregister", at: Date.now(), force: true, runningTasks: 2 }, s),
  });
  expect(dereg.ok).toBe(true);
  expect(model.instances.get(instance)?.snapshot.value).toBe("INACTIVE");
  expect(model.liveTasksByInstance.get(instance)?.size).toBe(2);

  // Heartbeats are not what this sweep is about: the instance is long deregistered.
  await new AgentGateway(deps).sweepLostAgents(() => Date.now(), 60_000);
  expect(model.liveTasksByInstance.get(instance)?.size ?? 0).toBe(0);
  for (const taskId of tasks) {
    const t = model.tasks.get(subjects.task(REGION, "default", taskId))?.snapshot;
    expect([t?.value, t?.context.desiredStatus, t?.context.stoppedReason]).toEqual(["STOPPED", "STOPPED", ORPHANED_REASON]);
    expect(t?.context.containers.map((c) => c.lastStatus)).toEqual(["STOPPED"]);
  }
});
