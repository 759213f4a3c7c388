import { describe, expect, it } from "vitest";
import type { ContainerObserved } from "../../events/agent.ts";
import { ContainerReporter } from "../../services/agent/container-reporter.ts";
import type { DockerPort } from "../../services/agent/docker/port.ts";
import { OOM_REASON } from "../../services/agent/observation.ts";
import type { ObservationPublisher } from "../../services/agent/publisher.ts";
import type { AgentStateStore, TaskRecord } from "../../services/agent/state.ts";

/**
 * Docker's `oom` event can come after the container's exit was reported and the container removed
 * (cgroup v2, and a task's containers go once every STOPPED fact is stored): the reporter then
 * reports the STOPPED fact again with the OOM reason, and only for a kill reported without one.
 */

const ID = "c".repeat(64);
const killed: ContainerObserved = {
  type: "ContainerObserved",
  at: 1,
  instanceId: "i1",
  taskArn: "arn:aws:ecs:us-east-1:000000000000:task/c/t1",
  containerName: "hog",
  runtimeId: ID,
  status: "STOPPED",
  exitCode: 137,
};

function reporter() {
  const published: ContainerObserved[] = [];
  const saved: TaskRecord[] = [];
  const r = new ContainerReporter({
    docker: {} as DockerPort,
    publisher: { publish: async (o: ContainerObserved) => void published.push(o) } as unknown as ObservationPublisher,
    store: { saveTask: async (rec: TaskRecord) => void saved.push(structuredClone(rec)) } as unknown as AgentStateStore,
    instanceId: "i1",
    clock: () => 50,
    signal: new AbortController().signal,
  });
  return { r, published, saved };
}

const record = (stopped: ContainerObserved | undefined): TaskRecord => ({
  taskArn: killed.taskArn,
  taskId: "t1",
  removed: true,
  updatedAt: 1,
  containers: { hog: stopped ? { stopped } : {} },
});

describe("a late oom event for a removed container", () => {
  it("reports the kill again with the OOM reason, once, and keeps it in the record", async () => {
    const { r, published, saved } = reporter();
    const rec = record(killed);
    r.noteOom(ID);
    await r.reportLateOom(rec, ID, "hog");
    expect(published).toEqual([{ ...killed, at: 50, reason: OOM_REASON }]);
    expect(saved.at(-1)?.containers.hog?.stopped?.reason).toBe(OOM_REASON);
    await r.reportLateOom(rec, ID, "hog"); // the destroy event that follows
    expect(published).toHaveLength(1);
  });

  it.each([
    ["no oom event came", undefined, false],
    ["no STOPPED fact yet", undefined, true],
    ["another exit code", { ...killed, exitCode: 1 }, true],
    ["a reason already given", { ...killed, reason: "Essential container in task exited" }, true],
    ["another container's fact", { ...killed, runtimeId: "d".repeat(64) }, true],
  ])("says nothing when %s", async (_why, stopped, oom) => {
    const { r, published } = reporter();
    if (oom) r.noteOom(ID);
    await r.reportLateOom(record(stopped ?? (oom ? undefined : killed)), ID, "hog");
    expect(published).toEqual([]);
  });
});
