/**
 * Every NATS subject, stream, consumer and bucket name Berth uses. No other module builds one.
 *
 * Subjects are part of Berth's public interface: integrations subscribe to them.
 *
 *   berth.evt.<region>.<kind>.<ids…>     decided events, one subject per aggregate (stream BERTH_EVENTS)
 *   berth.obs.<region>.<instanceId>      what an agent saw Docker do     (stream BERTH_OBSERVATIONS)
 *   berth.dir.<region>.<instanceId>      what the control plane asks an agent to do (stream BERTH_DIRECTIVES)
 *   berth.ctl.<region>.<verb>            agent ↔ control plane request/reply (core NATS, not stored)
 *   berth.ecs.<region>.<detail-type>     ECS EventBridge-shaped events (core NATS)
 *
 * ECS identifiers (cluster, family, service names: letters, digits, '-', '_'; ids: hex) are valid
 * subject tokens as they are, so no escaping is needed; `token()` refuses anything else.
 */

/** One subject token as Berth writes them; schemas of values that become tokens check against it. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,255}$/;

/** Guards a subject token; ids reach here only after API validation, so a failure is a bug. */
export function token(value: string): string {
  if (!SUBJECT_TOKEN.test(value)) throw new Error(`not a valid subject token: ${JSON.stringify(value)}`);
  return value;
}

export const streams = {
  events: "BERTH_EVENTS",
  observations: "BERTH_OBSERVATIONS",
  directives: "BERTH_DIRECTIVES",
} as const;

export type AggregateKind = "cluster" | "taskdef" | "task" | "instance" | "service" | "account";

export const subjects = {
  /** Everything in the event log, for every region. */
  allEvents: "berth.evt.>",
  allObservations: "berth.obs.>",
  allDirectives: "berth.dir.>",

  cluster: (region: string, cluster: string) => `berth.evt.${token(region)}.cluster.${token(cluster)}`,
  taskDefinition: (region: string, family: string) => `berth.evt.${token(region)}.taskdef.${token(family)}`,
  task: (region: string, cluster: string, taskId: string) =>
    `berth.evt.${token(region)}.task.${token(cluster)}.${token(taskId)}`,
  /** Every task's events in one cluster. */
  tasksOfCluster: (region: string, cluster: string) => `berth.evt.${token(region)}.task.${token(cluster)}.>`,
  instance: (region: string, cluster: string, instanceId: string) =>
    `berth.evt.${token(region)}.instance.${token(cluster)}.${token(instanceId)}`,
  service: (region: string, cluster: string, service: string) =>
    `berth.evt.${token(region)}.service.${token(cluster)}.${token(service)}`,
  /** Account-wide settings of one region (account settings, capacity providers). */
  account: (region: string) => `berth.evt.${token(region)}.account.settings`,

  /** Filters for followers of one kind of aggregate in every region. */
  eventsOfKind: (kind: AggregateKind) => `berth.evt.*.${kind}.>`,

  observations: (region: string, instanceId: string) => `berth.obs.${token(region)}.${token(instanceId)}`,
  directives: (region: string, instanceId: string) => `berth.dir.${token(region)}.${token(instanceId)}`,
  /** Every instance's directives in one region (the simulated fleet consumes them all at once). */
  directivesOfRegion: (region: string) => `berth.dir.${token(region)}.>`,

  /**
   * Agent registers its host; reply carries the container instance ARN. The instance id (minted by
   * the agent before it first registers) is in the subject, so NATS permissions can bind each
   * agent to its own instance; the control plane refuses a body naming another one.
   */
  register: (region: string, instanceId: string) => `berth.ctl.${token(region)}.register.${token(instanceId)}`,
  /** Agent asks for the desired state of every task placed on it (used when it (re)starts). */
  sync: (region: string, instanceId: string) => `berth.ctl.${token(region)}.sync.${token(instanceId)}`,
  /** Every instance's registrations / syncs of one region (for a control-plane stand-in in tests). */
  registerAny: (region: string) => `berth.ctl.${token(region)}.register.*`,
  syncAny: (region: string) => `berth.ctl.${token(region)}.sync.*`,
  /** What the control plane listens on for every region's registrations and syncs. */
  registerAnyRegion: "berth.ctl.*.register.*",
  syncAnyRegion: "berth.ctl.*.sync.*",
  /** Control plane asks one agent for a task's container logs. */
  logs: (region: string, instanceId: string) => `berth.ctl.${token(region)}.logs.${token(instanceId)}`,
  /**
   * One followed log's output, agent → control plane. The agent builds it from its own instance id
   * and the request's stream id, so NATS permissions can let it publish under its own instance only
   * and a request cannot send its output anywhere else.
   */
  logStream: (region: string, instanceId: string, streamId: string) =>
    `berth.ctl.${token(region)}.logstream.${token(instanceId)}.${token(streamId)}`,
  /** Every followed log of one instance (what its agent may publish). */
  logStreamsOf: (region: string, instanceId: string) => `berth.ctl.${token(region)}.logstream.${token(instanceId)}.*`,
  /**
   * Agent asks for the secret values of a task placed on it. The instance id is in the subject so
   * NATS permissions let an agent speak only for its own instance (the control plane checks the
   * task is placed there).
   */
  secrets: (region: string, instanceId: string) => `berth.ctl.${token(region)}.secrets.${token(instanceId)}`,
  secretsAnyInstance: "berth.ctl.*.secrets.*",

  /** ECS EventBridge-shaped events: detail-type "ECS Task State Change" → `task-state-change`. */
  ecsEvent: (region: string, detailType: EcsDetailType) => `berth.ecs.${token(region)}.${ecsDetailTokens[detailType]}`,
  allEcsEvents: "berth.ecs.>",
} as const;

export type EcsDetailType =
  | "ECS Task State Change"
  | "ECS Container Instance State Change"
  | "ECS Service Action"
  | "ECS Deployment State Change";

const ecsDetailTokens: Record<EcsDetailType, string> = {
  "ECS Task State Change": "task-state-change",
  "ECS Container Instance State Change": "container-instance-state-change",
  "ECS Service Action": "service-action",
  "ECS Deployment State Change": "deployment-state-change",
};

/** Parses an event subject back into its parts; null when it is not an event subject. */
export function parseEventSubject(subject: string): { region: string; kind: AggregateKind; ids: string[] } | null {
  // By position rather than by splitting the whole subject: the read model parses every event's.
  if (!subject.startsWith(EVENT_SUBJECT_PREFIX)) return null;
  const r = subject.indexOf(".", EVENT_SUBJECT_PREFIX.length);
  const k = r < 0 ? -1 : subject.indexOf(".", r + 1);
  if (k < 0) return null;
  return {
    region: subject.slice(EVENT_SUBJECT_PREFIX.length, r),
    kind: subject.slice(r + 1, k) as AggregateKind,
    ids: subject.slice(k + 1).split("."),
  };
}

/** What every event subject starts with. */
export const EVENT_SUBJECT_PREFIX = "berth.evt.";

export const consumers = {
  /** The control plane's durable consumer of agent observations. */
  observations: "control-plane-observations",
  /** Each agent's durable consumer of its own directives. */
  directives: (instanceId: string) => `agent-${token(instanceId)}`,
  /**
   * A simulated fleet's one durable consumer of a region's directives (services/sim), named per run
   * so that a second fleet in the region is refused as an overlapping consumer, not joined to it.
   */
  simDirectives: (region: string, run: string) => `sim-${token(region)}-${token(run)}`,
} as const;

export const buckets = {
  /** Agent heartbeats, key `<region>.<instanceId>`; bucket TTL drops keys of long-gone agents. */
  heartbeats: "berth_heartbeats",
  /** Scheduler leader lease, key = region. */
  leases: "berth_leases",
  /** Read-model snapshots, to shorten replay. */
  snapshots: "berth_snapshots",
  /** Positions of log followers that execute intents (at-least-once). */
  checkpoints: "berth_checkpoints",
  /** The secret store: key = base64url(name), value = AES-256-GCM ciphertext (services/control-plane/secrets.ts). */
  secrets: "berth_secrets",
} as const;

/** Region token of a `berth.ctl.<region>.<verb>` subject. */
export const regionOfControlSubject = (subject: string) => subject.split(".")[2] ?? "";
/** Instance id token of a `berth.ctl.<region>.<verb>.<instanceId>` subject. */
export const instanceOfControlSubject = (subject: string) => subject.split(".")[4] ?? "";

export const heartbeatKey = (region: string, instanceId: string) => `${token(region)}.${token(instanceId)}`;

/**
 * Keys of a read-model snapshot in buckets.snapshots: the manifest names the generation (the log
 * sequence the snapshot was taken at) whose chunks hold the data.
 */
export const snapshotKeys = {
  manifest: "readmodel.manifest",
  chunk: (generation: number, n: number) => `readmodel.${generation}.${n}`,
} as const;

/** Header carrying the event type on every stored message, so followers can filter without decoding. */
export const EVENT_TYPE_HEADER = "Berth-Event-Type";

/**
 * NATS's own JetStream API and KV subjects, for Berth's streams, consumers and buckets. Only the
 * NATS permissions of `berth up` use them (clients reach these through the JetStream library).
 */
export const jsApi = {
  info: "$JS.API.INFO",
  streamInfo: (stream: string) => `$JS.API.STREAM.INFO.${stream}`,
  streamMsgGet: (stream: string) => `$JS.API.STREAM.MSG.GET.${stream}`,
  /** A stored message from any replica (the stream allows direct gets). */
  directGet: (stream: string) => `$JS.API.DIRECT.GET.${stream}`,
  /** Creating one named consumer with one filter subject (the subject carries both). */
  consumerCreate: (stream: string, consumer: string, filter: string) =>
    `$JS.API.CONSUMER.CREATE.${stream}.${consumer}.${filter}`,
  consumerCreateAny: (stream: string) => `$JS.API.CONSUMER.CREATE.${stream}.>`,
  consumerInfo: (stream: string, consumer: string) => `$JS.API.CONSUMER.INFO.${stream}.${consumer}`,
  consumerInfoAny: (stream: string) => `$JS.API.CONSUMER.INFO.${stream}.*`,
  consumerNext: (stream: string, consumer: string) => `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
  consumerNextAny: (stream: string) => `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
  consumerDeleteAny: (stream: string) => `$JS.API.CONSUMER.DELETE.${stream}.*`,
  /** Acknowledgements (ack, nak, working, term) of one consumer's messages. */
  acks: (stream: string, consumer: string) => `$JS.ACK.${stream}.${consumer}.>`,
  acksAny: (stream: string) => `$JS.ACK.${stream}.>`,
  kvStream: (bucket: string) => `KV_${bucket}`,
  kvKey: (bucket: string, key: string) => `$KV.${bucket}.${key}`,
} as const;

/** Inbox prefix of a NATS user: with permissions on, each client may read only its own replies. */
export const inboxPrefix = (user: string) => `_INBOX_${token(user)}`;
