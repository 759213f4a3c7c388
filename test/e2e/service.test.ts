import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Envelope } from "../../events/envelope.ts";
import { streams } from "../../events/names.ts";
import { type BerthFixture, startBerth } from "../support/berth.ts";
import { dockerClient, TEST_IMAGE } from "../support/docker.ts";
import { waitFor } from "../support/wait.ts";

let b: BerthFixture;
let nc: NatsConnection;

beforeAll(async () => {
  b = await startBerth("t-svc");
  nc = await connect({ servers: b.nats.url });
});
afterAll(async () => {
  await nc?.close();
  await b?.close();
});

async function register(family: string, command: string[]) {
  const r = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: "app", image: TEST_IMAGE, command, memory: 16, stopTimeout: 1 }],
    }),
  );
  return r.taskDefinition?.taskDefinitionArn as string;
}

/** A revision of "checked", whose health check passes while /tmp/ok exists in the container. */
async function registerChecked(command: string[]) {
  const r = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "checked",
      containerDefinitions: [
        {
          name: "app",
          image: TEST_IMAGE,
          command,
          memory: 16,
          stopTimeout: 1,
          healthCheck: { command: ["CMD-SHELL", "test -f /tmp/ok"], interval: 5, timeout: 2, retries: 1 },
        },
      ],
    }),
  );
  return r.taskDefinition?.taskDefinitionArn as string;
}

async function describe1(service: string): Promise<Service> {
  const r = await b.ecs.send(new DescribeServicesCommand({ cluster: b.cluster, services: [service] }));
  const s = r.services?.[0];
  if (!s) throw new Error(`service ${service} missing`);
  return s;
}

function waitService(service: string, what: string, ok: (s: Service) => boolean, timeoutMs = 90_000) {
  return waitFor(
    async () => {
      const s = await describe1(service);
      return ok(s) ? s : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `service ${service} ${what}` },
  );
}

/** Creates a service that may stop half its tasks and start as many again during deployments (min 50, max 200), once steady. */
async function createHalfRolling(serviceName: string, taskDefinition: string, desiredCount: number) {
  await b.ecs.send(
    new CreateServiceCommand({
      cluster: b.cluster,
      serviceName,
      taskDefinition,
      desiredCount,
      deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200 },
    }),
  );
  await waitService(serviceName, `steady at ${desiredCount}`, steady(desiredCount));
}

const steady = (desired: number) => (s: Service) =>
  s.runningCount === desired && s.pendingCount === 0 && s.deployments?.length === 1 && s.deployments[0]?.rolloutState === "COMPLETED";

/** Every event in the log, in order (the audit trail the assertions are made on). */
async function readLog(): Promise<{ seq: number; subject: string; env: Envelope }[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streams.events, { deliver_policy: DeliverPolicy.All });
  const out: { seq: number; subject: string; env: Envelope }[] = [];
  const iter = await consumer.fetch({ max_messages: 100_000, expires: 2_000 });
  for await (const m of iter) {
    out.push({ seq: m.seq, subject: m.subject, env: m.json<Envelope>() });
    if (m.info.pending === 0) break;
  }
  return out;
}

async function runningTaskArns(service: string) {
  const r = await b.ecs.send(new ListTasksCommand({ cluster: b.cluster, serviceName: service }));
  return r.taskArns ?? [];
}

/** Deploys to "roll" a task definition whose container exits at once, with the circuit breaker on; returns the one it replaces. */
async function deployFailing(rollback: boolean): Promise<{ bad: string; good: string }> {
  const bad = await register("roll", ["sh", "-c", "exit 1"]);
  const good = (await describe1("roll")).taskDefinition as string;
  await b.ecs.send(
    new UpdateServiceCommand({
      cluster: b.cluster,
      service: "roll",
      taskDefinition: bad,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback } },
    }),
  );
  return { bad, good };
}

describe("services keep their desired count on real Docker", () => {
  test("a service of 3 replaces a killed task, and the new task's creation names the stop as its cause", async () => {
    const td = await register("web", ["sleep", "3600"]);
    const created = await b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: "web", taskDefinition: td, desiredCount: 3 }));
    expect(created.service?.status).toBe("ACTIVE");
    expect(created.service?.deployments?.[0]?.status).toBe("PRIMARY");
    await waitService("web", "steady at 3", steady(3));

    const before = await runningTaskArns("web");
    expect(before).toHaveLength(3);
    const victim = before[0] as string;
    const victimId = victim.split("/").pop() as string;
    const [container] = await dockerClient().listContainers({ filters: { label: [`berth.task-id=${victimId}`] } });
    await dockerClient().getContainer(container!.Id).kill();

    await b.waitTask(victim, "STOPPED", (t) => t.lastStatus === "STOPPED");
    const s = await waitService("web", "back at 3 RUNNING", (s) => s.runningCount === 3 && s.pendingCount === 0);
    const after = await runningTaskArns("web");
    expect(after).toHaveLength(3);
    const replacement = after.find((a) => !before.includes(a)) as string;
    expect(replacement).toBeDefined();
    expect(s.events?.some((e) => /has started 1 tasks/.test(e.message ?? ""))).toBe(true);

    const log = await readLog();
    const created1 = log.find((e) => e.env.type === "TaskCreated" && e.env.subject === replacement);
    const victimEvents = log.filter((e) => e.env.subject === victim).map((e) => e.env.id);
    expect(created1?.env.causationid).toBeDefined();
    expect(victimEvents).toContain(created1?.env.causationid);
  });

  test("scaling up and down converges, and the tasks a scale-up launches name it as their cause", async () => {
    const before = await runningTaskArns("web");
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "web", desiredCount: 5 }));
    await waitService("web", "at 5", steady(5));
    const log = await readLog();
    const scaled = log.filter((e) => e.env.type === "ServiceSettingsChanged").at(-1);
    const launched = (await runningTaskArns("web")).filter((a) => !before.includes(a));
    expect(launched).toHaveLength(2);
    for (const arn of launched)
      expect(log.find((e) => e.env.type === "TaskCreated" && e.env.subject === arn)?.env.causationid).toBe(scaled?.env.id);
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "web", desiredCount: 1 }));
    await waitService("web", "at 1", steady(1));
    expect(await runningTaskArns("web")).toHaveLength(1);
  });

  test("a rolling update of 4 tasks with min 50 / max 200 never drops below 2 RUNNING, nor below 2 counted as healthy", async () => {
    await createHalfRolling("roll", await register("roll", ["sleep", "3600"]), 4);
    // Until the old tasks count as healthy (RUNNING for the fixture's 2 s), so that their stops are bounded by it.
    const old = await runningTaskArns("roll");
    await waitFor(
      async () => {
        const r = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: old }));
        return (r.tasks ?? []).every((t) => t.startedAt && Date.now() - t.startedAt.getTime() >= 2_500) || undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "the old tasks RUNNING for 2.5 s" },
    );
    const startSeq = (await readLog()).at(-1)?.seq ?? 0;
    const v2 = await register("roll", ["sleep", "7200"]);
    const updated = await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "roll", taskDefinition: v2 }));
    expect(updated.service?.deployments?.length).toBe(2);
    const done = await waitService("roll", "rolled out to v2", (s) => steady(4)(s) && s.taskDefinition === v2);
    expect(done.deployments?.[0]?.taskDefinition).toBe(v2);

    // Replay the log from the update on: count RUNNING tasks of the service after every event, and
    // at every stop request those that count as healthy (no health check: RUNNING for the
    // fixture's --count-healthy-after of 2 s, at the time of the request).
    const log = await readLog();
    let min = Number.POSITIVE_INFINITY;
    const live = new Map<string, number>();
    const counted = (at: number) => [...live.values()].filter((startedAt) => at - startedAt >= 2_000).length;
    let stops = 0;
    const rollTasks = new Set(log.filter((e) => e.env.type === "TaskCreated" && (e.env.data as { group?: string }).group === "service:roll").map((e) => e.env.subject));
    for (const e of log) {
      if (!rollTasks.has(e.env.subject)) continue;
      const at = e.env.data.at as number;
      if (e.env.type === "TaskStarted") live.set(e.env.subject, at);
      if (e.env.type === "TaskStopRequested" && e.seq > startSeq) {
        const before = counted(at);
        live.delete(e.env.subject);
        expect(counted(at), `counted as healthy after the stop of ${e.env.subject}`).toBeGreaterThanOrEqual(Math.min(2, before));
        stops++;
      }
      if (e.env.type === "TaskStopRequested" || e.env.type === "TaskStopped") live.delete(e.env.subject);
      if (e.seq > startSeq) min = Math.min(min, live.size);
    }
    expect(stops).toBe(4);
    expect(min).toBeGreaterThanOrEqual(2);
    expect(live.size).toBe(4);
  });

  test("a deployment whose new image exits at once trips the circuit breaker and rolls back", async () => {
    const { good } = await deployFailing(true);
    const rolledBack = await waitService(
      "roll",
      "rolled back after the breaker tripped",
      (s) => s.taskDefinition === good && steady(4)(s),
      120_000,
    );
    // ECS's service events: the failure, then the rollback (newest first).
    const messages = (rolledBack.events ?? []).map((e) => e.message ?? "");
    const failedAt = messages.findIndex((m) => /^\(service roll\) \(deployment ecs-svc\/\d{19}\) deployment failed: tasks failed to start\.$/.test(m));
    const rollingAt = messages.findIndex((m) => /^\(service roll\) rolling back to deployment ecs-svc\/\d{19}\.$/.test(m));
    expect(failedAt, messages.join("\n")).toBeGreaterThan(rollingAt);
    expect(rollingAt, messages.join("\n")).toBeGreaterThanOrEqual(0);
    const log = await readLog();
    const failed = log.find((e) => e.env.type === "DeploymentRolloutChanged" && (e.env.data as { rolloutState?: string }).rolloutState === "FAILED");
    expect(failed).toBeDefined();
    expect((failed?.env.data as { reason?: string } | undefined)?.reason).toMatch(/circuit breaker/);
  });

  test("a deployment that fails without rollback leaves the service at its desired count on its previous task definition, which replaces a killed task", async () => {
    const { bad, good } = await deployFailing(false);
    // With minimumHealthyPercent 50, two of the old tasks stopped while the new ones were failing:
    // the old task definition brings the service back to 4.
    await waitService(
      "roll",
      "FAILED by the breaker, and at 4 RUNNING again",
      (s) => s.deployments?.[0]?.rolloutState === "FAILED" && s.runningCount === 4 && s.pendingCount === 0,
      120_000,
    );
    const before = await runningTaskArns("roll");
    expect(before).toHaveLength(4);
    for (const arn of before) expect((await b.task(arn)).taskDefinitionArn).toBe(good);
    const victimId = (before[0] as string).split("/").pop() as string;
    const [container] = await dockerClient().listContainers({ filters: { label: [`berth.task-id=${victimId}`] } });
    await dockerClient().getContainer(container!.Id).kill();
    await b.waitTask(before[0] as string, "STOPPED", (t) => t.lastStatus === "STOPPED");
    const s = await waitService("roll", "back at 4 RUNNING", (s) => s.runningCount === 4 && s.pendingCount === 0);
    const after = await runningTaskArns("roll");
    const replacement = after.find((a) => !before.includes(a)) as string;
    expect(replacement).toBeDefined();
    expect((await b.task(replacement)).taskDefinitionArn).toBe(good);
    expect(s.deployments?.[0]?.rolloutState).toBe("FAILED");
    expect(s.deployments?.[0]?.taskDefinition).toBe(bad);
  });

  test("during a rollout whose new tasks fail, an old task that dies is replaced from the old task definition", async () => {
    const good = await register("keep", ["sleep", "3600"]);
    await createHalfRolling("keep", good, 2);
    // The new tasks never reach RUNNING (their command does not exist), so none of them ever
    // counts as healthy: one that did, however briefly, would let the rollout stop the old
    // deployment's replacement, as ECS's would.
    const bad = await register("keep", ["/no/such/command"]);
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "keep", taskDefinition: bad }));
    // The rollout stops one old task (min 50) while the new ones keep failing.
    await waitService("keep", "down to 1 old task", (s) => s.deployments?.length === 2 && s.runningCount === 1, 60_000);
    const runningOn = async (td: string) => {
      const arns = await runningTaskArns("keep");
      if (arns.length === 0) return [];
      const r = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: arns }));
      return (r.tasks ?? []).filter((t) => t.lastStatus === "RUNNING" && t.taskDefinitionArn === td).map((t) => t.taskArn as string);
    };
    const [survivor] = await runningOn(good);
    expect(survivor).toBeDefined();
    const [container] = await dockerClient().listContainers({ filters: { label: [`berth.task-id=${(survivor as string).split("/").pop()}`] } });
    await dockerClient().getContainer(container!.Id).kill();
    await b.waitTask(survivor as string, "STOPPED", (t) => t.lastStatus === "STOPPED");
    // Replaced from the old task definition: the new one's tasks never start.
    await waitFor(async () => (await runningOn(good)).find((arn) => arn !== survivor), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: "a replacement on the old task definition RUNNING",
    });
    expect((await describe1("keep")).deployments?.[0]?.rolloutState).toBe("IN_PROGRESS");
    await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: "keep", force: true }));
  }, 180_000);

  test("a task that fails its health check is replaced first, and stops only once its replacement is HEALTHY", async () => {
    const td = await registerChecked(["sh", "-c", "touch /tmp/ok; exec sleep 3600"]);
    await b.ecs.send(new CreateServiceCommand({ cluster: b.cluster, serviceName: "checked", taskDefinition: td, desiredCount: 2 }));
    await waitService("checked", "steady at 2", steady(2));
    const before = await runningTaskArns("checked");
    await waitFor(
      async () => {
        const r = await b.ecs.send(new DescribeTasksCommand({ cluster: b.cluster, tasks: before }));
        return (r.tasks ?? []).every((t) => t.healthStatus === "HEALTHY") || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "both tasks HEALTHY" },
    );

    // The health check of one task starts failing.
    const victim = before[0] as string;
    const [container] = await dockerClient().listContainers({ filters: { label: [`berth.task-id=${victim.split("/").pop()}`] } });
    const exec = await dockerClient().getContainer(container!.Id).exec({ Cmd: ["rm", "/tmp/ok"] });
    await exec.start({ Detach: true });

    const stopped = await b.waitTask(victim, "STOPPED", (t) => t.lastStatus === "STOPPED", 90_000);
    expect(stopped.stopCode).toBe("ServiceSchedulerInitiated");
    expect(stopped.stoppedReason).toBe("Task failed container health checks");
    await waitService("checked", "back at 2", (s) => s.runningCount === 2 && s.pendingCount === 0);
    const after = await runningTaskArns("checked");
    const replacement = after.find((a) => !before.includes(a)) as string;
    expect(replacement).toBeDefined();

    // In the audit log: the replacement was created and HEALTHY before the unhealthy task was asked to stop.
    const log = await readLog();
    const seqOf = (subject: string, type: string, ok: (d: Record<string, unknown>) => boolean = () => true) =>
      log.find((e) => e.env.subject === subject && e.env.type === type && ok(e.env.data as Record<string, unknown>))?.seq ?? Number.NaN;
    const unhealthyAt = seqOf(victim, "TaskHealthChanged", (d) => d.healthStatus === "UNHEALTHY");
    const createdAt = seqOf(replacement, "TaskCreated");
    const healthyAt = seqOf(replacement, "TaskHealthChanged", (d) => d.healthStatus === "HEALTHY");
    const stopAt = seqOf(victim, "TaskStopRequested");
    expect(unhealthyAt).toBeLessThan(createdAt);
    expect(createdAt).toBeLessThan(healthyAt);
    expect(healthyAt).toBeLessThan(stopAt);
    const survivor = before[1] as string;
    expect(log.some((e) => e.env.subject === survivor && e.env.type === "TaskStopRequested")).toBe(false);
  });

  test("a deployment whose tasks fail their health checks trips the circuit breaker and rolls back", async () => {
    const good = (await describe1("checked")).taskDefinition as string;
    // No /tmp/ok: every task fails its health check.
    const bad = await registerChecked(["sleep", "3600"]);
    await b.ecs.send(
      new UpdateServiceCommand({
        cluster: b.cluster,
        service: "checked",
        taskDefinition: bad,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const s = await waitService("checked", "rolled back", (s) => s.taskDefinition === good && steady(2)(s), 150_000);
    expect(s.events?.some((e) => /^\(service checked\) rolling back to deployment ecs-svc\/\d{19}\.$/.test(e.message ?? ""))).toBe(true);
    // The failures the breaker counted: tasks of the new task definition stopped for their health.
    const log = await readLog();
    const badTasks = new Set(log.filter((e) => e.env.type === "TaskCreated" && (e.env.data as { spec?: { taskDefinitionArn?: string } }).spec?.taskDefinitionArn === bad).map((e) => e.env.subject));
    const healthStops = log.filter((e) => badTasks.has(e.env.subject) && e.env.type === "TaskStopRequested" && (e.env.data as { reason?: string }).reason === "Task failed container health checks");
    expect(healthStops.length).toBeGreaterThanOrEqual(3);
    const failed = log.find(
      (e) =>
        e.env.subject === s.serviceArn &&
        e.env.type === "DeploymentRolloutChanged" &&
        (e.env.data as { rolloutState?: string }).rolloutState === "FAILED",
    );
    expect(failed?.seq).toBeGreaterThan(healthStops[2]?.seq as number);
  }, 180_000);

  test("a service whose task fits nowhere says so in ECS's words, once", async () => {
    const big = await b.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "huge",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: ["sleep", "3600"], memory: 10_000_000 }],
      }),
    );
    await b.ecs.send(
      new CreateServiceCommand({ cluster: b.cluster, serviceName: "huge", taskDefinition: big.taskDefinition?.taskDefinitionArn, desiredCount: 1 }),
    );
    const s = await waitService("huge", "reporting the placement failure", (s) =>
      (s.events ?? []).some((e) => /unable to place a task because no container instance met all of its requirements/.test(e.message ?? "")),
    );
    const msg = s.events?.find((e) => /unable to place/.test(e.message ?? ""))?.message ?? "";
    expect(msg).toMatch(/^\(service huge\) was unable to place a task because no container instance met all of its requirements\. The closest matching \(container-instance [0-9a-f]{32}\) has insufficient memory available\. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide\.$/);
    await b.ecs.send(new UpdateServiceCommand({ cluster: b.cluster, service: "huge", forceNewDeployment: true }));
    const again = await describe1("huge");
    expect(again.events?.filter((e) => /unable to place/.test(e.message ?? ""))).toHaveLength(1);
    expect(again.runningCount).toBe(0);
  });

  test("deleting a service with force drains it to INACTIVE", async () => {
    const r = await b.ecs.send(new DeleteServiceCommand({ cluster: b.cluster, service: "web", force: true }));
    expect(r.service?.status).toBe("DRAINING");
    await waitService("web", "INACTIVE", (s) => s.status === "INACTIVE");
    expect(await runningTaskArns("web")).toHaveLength(0);
  });
});
