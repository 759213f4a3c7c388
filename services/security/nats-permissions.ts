import { buckets, consumers, inboxPrefix, jsApi, streams, subjects } from "../../events/names.ts";

/**
 * Who may do what on NATS, as nats-server permissions (allow-lists; anything not listed is refused
 * and logged by the server as a violation):
 *
 *   control plane   everything (it owns the streams, buckets and every decision)
 *   agent <r>/<id>  publish  berth.obs.<r>.<id>                  its own observations
 *                            berth.ctl.<r>.register|sync         registration and sync requests
 *                            berth.ctl.<r>.secrets.<id>          secrets of tasks placed on it
 *                            berth.ctl.<r>.logstream.<id>.*      output of logs it follows
 *                            $KV.berth_heartbeats.<r>.<id>       its own heartbeat
 *                            JetStream API for its own durable consumer agent-<id> on
 *                            BERTH_DIRECTIVES, filtered to berth.dir.<r>.<id> (create, info,
 *                            next, ack) and the heartbeat bucket's stream info
 *                   subscribe berth.ctl.<r>.logs.<id>             log requests for its containers
 *                            _INBOX_<user>.>                     its own replies only
 *                   replies  to the requests it received (allow_responses)
 *   reader          subscribe berth.evt.> and berth.ecs.>         live events
 *                            _INBOX_<user>.>
 *                   publish  JetStream API to read BERTH_EVENTS (consumer create/info/next/
 *                            delete and acks, stream info, message get, direct get): its own durable
 *                            consumers work and can be removed, and nothing writes or deletes
 *                            an event (acks on a limits stream remove nothing)
 *
 * An agent's permissions name its instance id, so the id is fixed when its credentials are minted
 * (see nats-credentials.ts). Each client must use `_INBOX_<user>` as its inbox prefix.
 */

export interface SubjectPermission {
  allow: string[];
}

export interface Permissions {
  publish: SubjectPermission;
  subscribe: SubjectPermission;
  /** Lets a client answer requests it received, on their reply subjects only. */
  allow_responses?: boolean;
}

export interface AgentGrant {
  region: string;
  instanceId: string;
}

export const controlPlanePermissions = (): Permissions => ({
  publish: { allow: [">"] },
  subscribe: { allow: [">"] },
});

export function agentPermissions(user: string, a: AgentGrant): Permissions {
  const durable = consumers.directives(a.instanceId);
  const heartbeatStream = jsApi.kvStream(buckets.heartbeats);
  return {
    publish: {
      allow: [
        subjects.observations(a.region, a.instanceId),
        subjects.register(a.region, a.instanceId),
        subjects.sync(a.region, a.instanceId),
        subjects.secrets(a.region, a.instanceId),
        subjects.logStreamsOf(a.region, a.instanceId),
        jsApi.kvKey(buckets.heartbeats, `${a.region}.${a.instanceId}`),
        jsApi.info,
        jsApi.streamInfo(heartbeatStream),
        jsApi.consumerCreate(streams.directives, durable, subjects.directives(a.region, a.instanceId)),
        jsApi.consumerInfo(streams.directives, durable),
        jsApi.consumerNext(streams.directives, durable),
        jsApi.acks(streams.directives, durable),
      ],
    },
    subscribe: { allow: [`${inboxPrefix(user)}.>`, subjects.logs(a.region, a.instanceId)] },
    allow_responses: true,
  };
}

export function readerPermissions(user: string): Permissions {
  return {
    publish: {
      allow: [
        jsApi.info,
        jsApi.streamInfo(streams.events),
        jsApi.streamMsgGet(streams.events),
        jsApi.directGet(streams.events),
        jsApi.consumerCreateAny(streams.events),
        jsApi.consumerInfoAny(streams.events),
        jsApi.consumerNextAny(streams.events),
        jsApi.consumerDeleteAny(streams.events),
        jsApi.acksAny(streams.events),
      ],
    },
    subscribe: { allow: [subjects.allEvents, subjects.allEcsEvents, `${inboxPrefix(user)}.>`] },
  };
}

export interface ConfigUser {
  user: string;
  password: string;
  permissions: Permissions;
}

/**
 * The `authorization` block of a nats-server configuration. Values are written as JSON strings,
 * which the nats-server configuration format reads as quoted strings (so `$JS…` is no variable).
 */
export function authorizationConfig(users: readonly ConfigUser[]): string {
  const lines = users.map((u) => `    ${JSON.stringify(u)}`);
  return ["authorization {", "  users = [", ...lines, "  ]", "}", ""].join("\n");
}
