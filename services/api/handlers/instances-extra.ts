import { z } from "zod";
import type { RegisterRequest } from "../../../events/agent.ts";
import { arns } from "../../../events/arns.ts";
import { subjects } from "../../../events/names.ts";
import { Attribute, Resource } from "../../../events/shapes.ts";
import {
  decideInstance,
  type InstanceCommand,
  type InstanceSnapshot,
  initialInstance,
} from "../../../machines/instance/instance.decide.ts";
import { registerInstance, stopOrphanedTasks } from "../../control-plane/agents.ts";
import type { Agg } from "../../control-plane/read-model.ts";
import type { ApiServices, Handler, RequestContext } from "../context.ts";
import { EcsError, invalid, parseInput, unwrap } from "../errors.ts";
import { renderInstance } from "../render.ts";
import { activeCluster, instanceIdOf } from "../resolve.ts";
import { TagList, validateTags } from "../tags.ts";
import { instanceTaskCounts } from "./instances.ts";

/**
 * RegisterContainerInstance (agent-style, over HTTP), DeregisterContainerInstance and
 * UpdateContainerInstancesState. Registration goes through the same function the NATS agent
 * protocol uses, so an instance registered either way is the same aggregate.
 */

type ClusterRef = ReturnType<typeof activeCluster>;

export interface InstanceTarget {
  id: string;
  arn: string;
  subject: string;
  agg: Agg<InstanceSnapshot> | undefined;
}

/** An instance id or long ARN in `cluster`; null when the value is not an instance identifier. */
export function instanceTarget(
  value: string,
  cluster: ClusterRef,
  ctx: RequestContext,
  s: ApiServices,
): InstanceTarget | null {
  const id = instanceIdOf(value, cluster.name);
  if (!id) return null;
  const subject = subjects.instance(ctx.region, cluster.name, id);
  const agg = s.model.instances.get(subject);
  return {
    id,
    arn: arns.instance(ctx.scope, cluster.name, id),
    subject,
    agg: agg?.snapshot.value === "NEW" ? undefined : agg,
  };
}

export function renderInstanceOf(s: ApiServices, subject: string, include: ReadonlySet<string> = new Set()) {
  const agg = s.model.instances.get(subject);
  if (!agg) throw new Error(`instance ${subject} missing from the read model after a write`);
  return renderInstance(agg, s.model.usage.get(subject), instanceTaskCounts(s.model, subject), include);
}

export async function runInstanceCommand(
  t: InstanceTarget,
  command: InstanceCommand,
  ctx: RequestContext,
  s: ApiServices,
) {
  await unwrap(
    s.bus.execute({
      subject: t.subject,
      resource: t.arn,
      get: () => s.model.instances.get(t.subject),
      initial: initialInstance,
      decide: (st) => decideInstance(command, st),
      meta: { correlationid: ctx.requestId },
    }),
  );
}

/** The EC2 instance identity document members Berth reads (the rest is ignored). */
const IdentityDocument = z.looseObject({
  instanceId: z.string().optional(),
  availabilityZone: z.string().optional(),
  instanceType: z.string().optional(),
  imageId: z.string().optional(),
  privateIp: z.string().optional(),
});

const ATTRIBUTE_NAME = /^[A-Za-z0-9_./\\-]{1,128}$/;

function identityOf(doc: string | undefined) {
  if (doc === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc);
  } catch {
    throw invalid("instanceIdentityDocument is not a valid instance identity document (JSON expected).");
  }
  const r = IdentityDocument.safeParse(parsed);
  if (!r.success) throw invalid("instanceIdentityDocument is not a valid instance identity document.");
  return r.data;
}

const RegisterContainerInstanceInput = z.object({
  cluster: z.string().optional(),
  instanceIdentityDocument: z.string().optional(),
  instanceIdentityDocumentSignature: z.string().optional(),
  totalResources: z.array(Resource).optional(),
  versionInfo: z
    .object({
      agentVersion: z.string().optional(),
      agentHash: z.string().optional(),
      dockerVersion: z.string().optional(),
    })
    .optional(),
  containerInstanceArn: z.string().optional(),
  attributes: z.array(Attribute).optional(),
  platformDevices: z.array(z.object({ id: z.string(), type: z.string() })).optional(),
  tags: TagList.optional(),
});

export const RegisterContainerInstance: Handler = async (raw, ctx, s) => {
  const input = parseInput(RegisterContainerInstanceInput, raw);
  // Unlike the agent protocol, the API never creates the cluster (ECS's agent calls CreateCluster itself).
  const cluster = activeCluster(input.cluster, ctx, s);
  const tags = validateTags(input.tags);
  const doc = identityOf(input.instanceIdentityDocument);
  let instanceId: string | undefined;
  if (input.containerInstanceArn !== undefined) {
    instanceId = instanceIdOf(input.containerInstanceArn, cluster.name) ?? undefined;
    if (!instanceId) throw invalid("containerInstanceArn does not name a container instance of this cluster.");
  }
  for (const r of input.totalResources ?? []) {
    if ((r.name === "CPU" || r.name === "MEMORY") && (r.type !== "INTEGER" || (r.integerValue ?? -1) < 0))
      throw invalid(`${r.name} must be registered as a non-negative INTEGER resource.`);
  }
  const attributes = [...(input.attributes ?? [])];
  for (const a of attributes) if (!ATTRIBUTE_NAME.test(a.name)) throw invalid(`Attribute name ${a.name} is not valid.`);
  const derived: [string, string | undefined][] = [
    ["ecs.availability-zone", doc.availabilityZone],
    ["ecs.instance-type", doc.instanceType],
    ["ecs.ami-id", doc.imageId],
  ];
  for (const [name, value] of derived)
    if (value !== undefined && !attributes.some((a) => a.name === name)) attributes.push({ name, value });
  const req: RegisterRequest = {
    cluster: cluster.name,
    ...(instanceId ? { instanceId } : {}),
    hostname: doc.privateIp ?? doc.instanceId ?? "external",
    ...(doc.instanceId ? { ec2InstanceId: doc.instanceId } : {}),
    totalResources: input.totalResources ?? [],
    attributes: attributes.map((a) => (a.value === undefined ? { name: a.name } : { name: a.name, value: a.value })),
    versionInfo: input.versionInfo ?? {},
    capacity: ["EC2"],
  };
  const reply = await registerInstance(s, ctx.region, req, tags);
  if (!reply.ok) throw new EcsError(reply.code, reply.message);
  return {
    containerInstance: renderInstanceOf(
      s,
      subjects.instance(ctx.region, cluster.name, reply.instanceId),
      new Set(["TAGS"]),
    ),
  };
};

const DeregisterContainerInstanceInput = z.object({
  containerInstance: z.string(),
  cluster: z.string().optional(),
  force: z.boolean().optional(),
});

export const DeregisterContainerInstance: Handler = async (raw, ctx, s) => {
  const input = parseInput(DeregisterContainerInstanceInput, raw);
  const cluster = activeCluster(input.cluster, ctx, s);
  const t = instanceTarget(input.containerInstance, cluster, ctx, s);
  if (!t?.agg) throw invalid("The referenced container instance was not found.");
  // Tasks that have not stopped (running or on their way) hold the instance unless forced.
  const runningTasks = s.model.liveTasksByInstance.get(t.subject)?.size ?? 0;
  await runInstanceCommand(t, { type: "Deregister", at: ctx.now, force: input.force ?? false, runningTasks }, ctx, s);
  // Forced with tasks on it: they stop (a stop not recorded now is finished by the lost-agent sweep).
  if (runningTasks > 0) await stopOrphanedTasks(s, t.subject);
  return { containerInstance: renderInstanceOf(s, t.subject) };
};

const UpdateContainerInstancesStateInput = z.object({
  containerInstances: z.array(z.string()),
  status: z.enum(["ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"]),
  cluster: z.string().optional(),
});

export const UpdateContainerInstancesState: Handler = async (raw, ctx, s) => {
  const input = parseInput(UpdateContainerInstancesStateInput, raw);
  if (input.status !== "ACTIVE" && input.status !== "DRAINING")
    throw invalid("Container instance status can only be updated to ACTIVE or DRAINING.");
  const status = input.status;
  if (input.containerInstances.length === 0) throw invalid("containerInstances cannot be empty.");
  if (input.containerInstances.length > 10) throw invalid("containerInstances cannot contain more than 10 elements.");
  const cluster = activeCluster(input.cluster, ctx, s);
  const containerInstances: unknown[] = [];
  const failures: { arn: string; reason: string; detail?: string }[] = [];
  for (const value of input.containerInstances) {
    const t = instanceTarget(value, cluster, ctx, s);
    if (!t?.agg) {
      failures.push({ arn: t?.arn ?? value, reason: "MISSING" });
      continue;
    }
    if (t.agg.snapshot.value === "INACTIVE") {
      failures.push({ arn: t.arn, reason: "INACTIVE", detail: "The container instance was deregistered." });
      continue;
    }
    await runInstanceCommand(t, { type: "SetStatus", at: ctx.now, status }, ctx, s);
    containerInstances.push(renderInstanceOf(s, t.subject));
  }
  return { containerInstances, failures };
};
