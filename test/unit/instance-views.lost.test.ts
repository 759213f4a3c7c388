import pino from "pino";
import { describe, expect, test } from "vitest";
import { ReadModel } from "../../services/control-plane/read-model.ts";

/**
 * An instance the lost-agent sweep has found lost is out of placement from that moment, before its
 * disconnection is folded: when a whole fleet goes, recording every fact takes seconds, and the
 * replacements of the first instances' tasks must not land on the others.
 */

const REGION = "us-east-1";
const ACCOUNT = "000000000000";
const CLUSTER_SUBJECT = `berth.evt.${REGION}.cluster.c1`;
const ids = ["a".repeat(32), "b".repeat(32)] as const;
const subjectOf = (id: string) => `berth.evt.${REGION}.instance.c1.${id}`;
const enc = new TextEncoder();
let seq = 0;

function fold(model: ReadModel, subject: string, data: Record<string, unknown>) {
  seq++;
  const env = {
    specversion: "1.0",
    id: `${subject}:${seq}:0123456789abcd`,
    source: "berth://test",
    type: data.type,
    subject,
    time: new Date(1_700_000_000_000 + seq).toISOString(),
    datacontenttype: "application/json",
    data,
  };
  model.apply(seq, subject, enc.encode(JSON.stringify(env)));
}

function registered(id: string) {
  return {
    type: "InstanceRegistered",
    at: 1_700_000_000_000,
    containerInstanceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/c1/${id}`,
    instanceId: id,
    cluster: "c1",
    hostname: `host-${id.slice(0, 4)}`,
    registeredResources: [
      { name: "CPU", type: "INTEGER", integerValue: 2048 },
      { name: "MEMORY", type: "INTEGER", integerValue: 4096 },
    ],
    attributes: [],
    versionInfo: { agentVersion: "1.0.0" },
    capacity: ["EC2"],
    tags: [],
  };
}

const connected = (model: ReadModel) =>
  Object.fromEntries(model.views.of(CLUSTER_SUBJECT).map((v) => [v.id, v.agentConnected]));

describe("an instance found lost", () => {
  test("is disconnected for placement until its disconnection is folded, and stays so after", () => {
    const model = new ReadModel(pino({ level: "silent" }));
    for (const id of ids) fold(model, subjectOf(id), registered(id));
    expect(connected(model)).toEqual({ [ids[0]]: true, [ids[1]]: true });

    model.views.markLost(CLUSTER_SUBJECT, subjectOf(ids[0]));
    expect(connected(model)).toEqual({ [ids[0]]: false, [ids[1]]: true });
    // Still the instance's own record: only placement's view says so.
    expect(model.instances.get(subjectOf(ids[0]))?.snapshot.context.agentConnected).toBe(true);

    fold(model, subjectOf(ids[0]), { type: "InstanceAgentDisconnected", at: 1_700_000_060_000, lastHeartbeatAt: 1_700_000_000_000 });
    expect(connected(model)).toEqual({ [ids[0]]: false, [ids[1]]: true });
    // Back in touch: the folded fact decides again.
    fold(model, subjectOf(ids[0]), { type: "InstanceAgentConnected", at: 1_700_000_070_000 });
    expect(connected(model)).toEqual({ [ids[0]]: true, [ids[1]]: true });
  });

  test("is placeable again when its disconnection could not be recorded", () => {
    const model = new ReadModel(pino({ level: "silent" }));
    for (const id of ids) fold(model, subjectOf(id), registered(id));
    connected(model);
    model.views.markLost(CLUSTER_SUBJECT, subjectOf(ids[1]));
    expect(connected(model)[ids[1]]).toBe(false);
    model.views.unmarkLost(CLUSTER_SUBJECT, subjectOf(ids[1]));
    expect(connected(model)[ids[1]]).toBe(true);
  });
});
