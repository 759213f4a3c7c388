import fc from "fast-check";
import pino from "pino";
import { describe, expect, test } from "vitest";
import { envelope } from "../../events/envelope.ts";
import { subjects } from "../../events/names.ts";
import type { TaskEvent } from "../../events/task.events.ts";
import type { ApiServices, RequestContext } from "../../services/api/context.ts";
import { ListTasks } from "../../services/api/handlers/tasks.ts";
import { JsonText, jsonStrings } from "../../services/api/raw-json.ts";
import { ReadModel } from "../../services/control-plane/read-model.ts";

/**
 * ListTasks writes its answer as JSON text, the cluster's ARN prefix and the task ids joined
 * between quotes, unless the cluster holds an ARN that is not its prefix and id or has a
 * character JSON escapes. Berth never makes such an ARN; this holds the answer right if a log
 * holds one anyway.
 */

const REGION = "us-east-1";
const ACCOUNT = "000000000000";
const log = pino({ level: "silent" });
const encoder = new TextEncoder();

function modelWith(clusters: Record<string, string[]>): ReadModel {
  const model = new ReadModel(log);
  let seq = 0;
  const fold = (subject: string, version: number, event: { type: string; at: number }) =>
    model.apply(
      ++seq,
      subject,
      encoder.encode(JSON.stringify(envelope(subject, "r", version, event, { source: "test" }))),
    );
  for (const [cluster, taskArns] of Object.entries(clusters)) {
    fold(subjects.cluster(REGION, cluster), 1, {
      type: "ClusterCreated",
      at: 1,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`,
      clusterName: cluster,
      settings: [],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
      tags: [],
    } as { type: string; at: number });
    taskArns.forEach((taskArn, i) => {
      // The ARN's last element is the task's id: Berth's own ARNs are the cluster's prefix and it.
      const taskId = taskArn.slice(taskArn.lastIndexOf("/") + 1);
      const created: TaskEvent = {
        type: "TaskCreated",
        at: 2 + i,
        taskArn,
        group: "family:web",
        overrides: {},
        tags: [],
        enableExecuteCommand: false,
        reservation: { cpu: 0, memory: 0, ports: [], portsUdp: [] },
        containers: [{ name: "app", containerArn: `${taskArn}-app` }],
        spec: {
          taskArn,
          taskId,
          clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`,
          cluster,
          taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:1`,
          family: "web",
          revision: 1,
          launchType: "EC2",
          networkMode: "bridge",
          volumes: [],
          containers: [{ name: "app", image: "x", essential: true }],
        } as never,
        initialStatus: "PENDING",
      };
      fold(subjects.task(REGION, cluster, `t${i}`), 1, created);
    });
  }
  return model;
}

async function listTasks(model: ReadModel, input: Record<string, unknown>): Promise<string> {
  const ctx = {
    region: REGION,
    scope: { region: REGION, account: ACCOUNT },
    requestId: "r",
    now: 1,
    log,
  } as RequestContext;
  const out = await ListTasks(input, ctx, { model, account: ACCOUNT, log } as unknown as ApiServices);
  expect(out).toBeInstanceOf(JsonText);
  return (out as JsonText).text;
}

describe("ListTasks' answer text", () => {
  const plainArns = Array.from(
    { length: 150 },
    (_, i) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/plain/${i.toString(16).padStart(32, "0")}`,
  );
  const oddArns = ['arn:aws:ecs:us-east-1:000000000000:task/odd/a"b', "arn:…/c\\d", "line\nbreak", "tab\there", "😀"];

  test("is exactly what JSON.stringify gives, pages and token included", async () => {
    const model = modelWith({ plain: plainArns });
    expect(model.clustersWithIrregularArns.size).toBe(0);
    /** The answer parsed, after checking it is JSON.stringify's own text for that value. */
    const answer = async (input: Record<string, unknown>) => {
      const text = await listTasks(model, input);
      expect(text).toBe(JSON.stringify(JSON.parse(text)));
      return JSON.parse(text) as { taskArns: string[]; nextToken?: string };
    };
    const first = await answer({ cluster: "plain" });
    expect(first.taskArns).toEqual(plainArns.slice(0, 100));
    expect(await answer({ cluster: "plain", nextToken: first.nextToken })).toEqual({ taskArns: plainArns.slice(100) });
    expect(await answer({ cluster: "plain", desiredStatus: "STOPPED" })).toEqual({ taskArns: [] });
    const filtered = await answer({ cluster: "plain", family: "web", maxResults: 2 });
    expect(filtered).toEqual({ taskArns: plainArns.slice(0, 2), nextToken: expect.any(String) });
  });

  test("an ARN that is not its cluster's prefix and id is listed whole", async () => {
    const mixed = [
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task/mixed/${"a".repeat(32)}`,
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task/elsewhere/${"b".repeat(32)}`,
      `arn:aws:ecs:${REGION}:${ACCOUNT}:task/mixed/${"c".repeat(32)}`,
    ];
    const model = modelWith({ mixed });
    expect([...model.clustersWithIrregularArns]).toEqual([subjects.cluster(REGION, "mixed")]);
    expect(await listTasks(model, { cluster: "mixed" })).toBe(JSON.stringify({ taskArns: mixed }));
    expect(await listTasks(model, { cluster: "mixed", family: "web" })).toBe(JSON.stringify({ taskArns: mixed }));
    const restored = new ReadModel(log);
    for (const agg of model.clusters.values()) restored.adopt("cluster", agg);
    for (const agg of model.tasks.values()) restored.adopt("task", agg);
    expect(await listTasks(restored, { cluster: "mixed" })).toBe(JSON.stringify({ taskArns: mixed }));
  });

  test("an ARN JSON must escape, folded or restored, is escaped in its cluster's listings", async () => {
    const model = modelWith({ plain: plainArns.slice(0, 3), odd: oddArns });
    expect([...model.clustersWithIrregularArns]).toEqual([subjects.cluster(REGION, "odd")]);
    expect(JSON.parse(await listTasks(model, { cluster: "odd" }))).toEqual({ taskArns: oddArns });
    expect(JSON.parse(await listTasks(model, { cluster: "odd", family: "web" }))).toEqual({ taskArns: oddArns });
    expect(await listTasks(model, { cluster: "plain" })).toBe(JSON.stringify({ taskArns: plainArns.slice(0, 3) }));

    // A model restored from aggregates (a snapshot's path) notes the cluster too.
    const restored = new ReadModel(log);
    for (const agg of model.clusters.values()) restored.adopt("cluster", agg);
    for (const agg of model.tasks.values()) restored.adopt("task", agg);
    expect([...restored.clustersWithIrregularArns]).toEqual([subjects.cluster(REGION, "odd")]);
    expect(JSON.parse(await listTasks(restored, { cluster: "odd" }))).toEqual({ taskArns: oddArns });
  });
});

describe("jsonStrings", () => {
  test("joined plain strings, prefixed or not, are JSON.stringify's text; any string is, when not said plain", () => {
    const plain = fc.string({ unit: fc.constantFrom(..."arn:aws-ecs/0123456789abcdef_ .,;{}[]~") });
    const any = fc.string({ unit: "binary" });
    fc.assert(
      fc.property(fc.array(plain, { maxLength: 5 }), plain, fc.array(any, { maxLength: 5 }), any, (p, pp, a, ap) => {
        expect(jsonStrings(p, true)).toBe(JSON.stringify(p));
        expect(jsonStrings(p, true, pp)).toBe(JSON.stringify(p.map((v) => pp + v)));
        expect(jsonStrings(a, false)).toBe(JSON.stringify(a));
        expect(jsonStrings(a, false, ap)).toBe(JSON.stringify(a.map((v) => ap + v)));
      }),
    );
  });
});
