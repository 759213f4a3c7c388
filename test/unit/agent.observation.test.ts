import { describe, expect, it } from "vitest";
import { labels } from "../../events/agent.ts";
import type { ContainerInfo } from "../../services/agent/docker/port.ts";
import { OOM_REASON, observationMsgId, observeContainer } from "../../services/agent/observation.ts";
import { planReconcile } from "../../services/agent/reconcile.ts";

const base: ContainerInfo = {
  id: "c".repeat(64),
  name: "berth-t1-web",
  image: "busybox",
  imageId: "sha256:abc",
  labels: {},
  state: { status: "running", running: true, exitCode: 0, oomKilled: false, error: "", startedAt: 1000 },
  networkMode: "bridge",
  ports: {},
  networks: {},
};
const ctx = { instanceId: "i1", taskArn: "arn:task", containerName: "web", at: 5 };
const info = (state: Partial<ContainerInfo["state"]>, extra: Partial<ContainerInfo> = {}): ContainerInfo => ({
  ...base,
  ...extra,
  state: { ...base.state, ...state },
});

describe("observeContainer", () => {
  it.each([
    ["created", "PENDING"],
    ["running", "RUNNING"],
    ["paused", "RUNNING"],
    ["restarting", "RUNNING"],
    ["exited", "STOPPED"],
    ["dead", "STOPPED"],
  ] as const)("Docker %s → ECS %s", (status, ecs) => {
    expect(observeContainer(info({ status }), ctx).status).toBe(ecs);
  });

  it("reports the exit code of a stopped container, and OOM kills with ECS's reason", () => {
    expect(observeContainer(info({ status: "exited", exitCode: 3 }), ctx)).toMatchObject({
      status: "STOPPED",
      exitCode: 3,
    });
    const oom = observeContainer(info({ status: "exited", exitCode: 137, oomKilled: true }), ctx);
    expect(oom).toMatchObject({ exitCode: 137, reason: OOM_REASON });
    // Docker's OOMKilled cleared by the exit, but its oom event seen: still an OOM kill.
    const cleared = observeContainer(info({ status: "exited", exitCode: 137, oomKilled: false }), { ...ctx, oomEvent: true });
    expect(cleared).toMatchObject({ exitCode: 137, reason: OOM_REASON });
    // A process of the container killed for memory while the container exited on its own: no OOM reason.
    expect(observeContainer(info({ status: "exited", exitCode: 0 }), { ...ctx, oomEvent: true }).reason).toBeUndefined();
    expect(observeContainer(info({ status: "exited", exitCode: 137 }), ctx).reason).toBeUndefined();
  });

  it("a created container with an engine error failed to start", () => {
    const o = observeContainer(info({ status: "created", error: "exec: no such file", startedAt: undefined }), ctx);
    expect(o).toMatchObject({ status: "STOPPED", reason: "CannotStartContainerError: exec: no such file" });
    expect(o.exitCode).toBeUndefined();
  });

  it("maps health and IPv4 bridge bindings", () => {
    const o = observeContainer(
      info(
        { health: "healthy" },
        {
          ports: {
            "80/tcp": [
              { hostIp: "0.0.0.0", hostPort: "49153" },
              { hostIp: "::", hostPort: "49153" },
            ],
            "81/tcp": null,
          },
        },
      ),
      ctx,
    );
    expect(o.healthStatus).toBe("HEALTHY");
    expect(o.networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 80, hostPort: 49153, protocol: "tcp" }]);
  });

  it("host mode binds the definition's container ports as they are", () => {
    const o = observeContainer(info({}, { networkMode: "host" }), {
      ...ctx,
      definition: { name: "web", image: "busybox", portMappings: [{ containerPort: 8080 }] },
    });
    expect(o.networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 8080, hostPort: 8080, protocol: "tcp" }]);
  });

  it("message ids are deterministic per (container, status, exit code, health)", () => {
    const a = observeContainer(info({ status: "exited", exitCode: 1 }), ctx);
    const b = observeContainer(info({ status: "exited", exitCode: 1 }), { ...ctx, at: 99 });
    expect(observationMsgId(a)).toBe(observationMsgId(b));
    expect(observationMsgId(a)).toBe(`${base.id}:STOPPED:1:`);
    expect(observationMsgId(observeContainer(info({}), ctx))).not.toBe(observationMsgId(a));
  });

  it("a reason is part of the fact: a kill reported again with Docker's late OOM reason is a new message", () => {
    const killed = observeContainer(info({ status: "exited", exitCode: 137 }), ctx);
    const oom = observeContainer(info({ status: "exited", exitCode: 137 }), { ...ctx, oomEvent: true });
    expect(oom.reason).toBe(OOM_REASON);
    expect(observationMsgId(oom)).not.toBe(observationMsgId(killed));
    expect(observationMsgId(killed)).toBe(`${base.id}:STOPPED:137:`);
    const multiline = { ...killed, reason: "CannotPullContainerError: line one\r\nline two" };
    expect(observationMsgId(multiline)).toMatch(/^[^\r\n]+$/);
    expect(observationMsgId(multiline)).toBe(observationMsgId({ ...multiline, at: 123 }));
  });
});

describe("planReconcile", () => {
  const spec = (taskArn: string) => ({ taskArn }) as never;
  const c = (taskArn: string, taskId: string, name: string) => ({
    labels: { [labels.taskArn]: taskArn, [labels.taskId]: taskId, [labels.containerName]: name },
  });

  it("sorts tasks into run, stop, orphans and forget", () => {
    const plan = planReconcile(
      [
        { taskArn: "a", desiredStatus: "RUNNING", spec: spec("a") },
        { taskArn: "b", desiredStatus: "STOPPED", spec: spec("b") },
      ],
      [c("a", "ta", "x"), c("o", "to", "y"), c("o", "to", "z")],
      [
        { taskArn: "a", taskId: "ta" },
        { taskArn: "gone", taskId: "tg" },
        { taskArn: "o", taskId: "to" },
      ],
    );
    expect(plan.run.map((t) => t.taskArn)).toEqual(["a"]);
    expect(plan.stop.map((t) => t.taskArn)).toEqual(["b"]);
    expect(plan.orphans).toEqual([{ taskArn: "o", taskId: "to", containers: ["y", "z"] }]);
    expect(plan.forget).toEqual([{ taskArn: "gone", taskId: "tg" }]);
  });
});
