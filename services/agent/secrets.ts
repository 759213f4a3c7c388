import type { NatsConnection } from "@nats-io/transport-node";
import { SecretsReply, type SecretsRequest, taskSecretRefs } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import type { TaskRuntimeSpec } from "../../events/task.events.ts";
import { agreedKey, ephemeralKeys, open } from "../security/sealed.ts";

/**
 * The agent's side of the secret store (services/control-plane/secrets.ts): before a task's
 * containers are created, ask the control plane for the values its definition refers to
 * (`secrets`, `logConfiguration.secretOptions`, `repositoryCredentials`).
 *
 * Values live only in memory for the start that needs them: they are not written to the task
 * record, not logged and not put in labels; they reach Docker as the container's environment,
 * log options or pull credentials, as with ECS.
 */

/** valueFrom (or credentialsParameter) → value. */
export type TaskSecrets = ReadonlyMap<string, string>;

/** ECS's stopped reason prefix for secrets and registry auth that cannot be had. */
export const SECRETS_REASON = "ResourceInitializationError: unable to pull secrets or registry auth";

/** The control plane refused (a secret is missing, the task is not placed here): the task cannot start. */
export class SecretsUnavailable extends Error {
  override readonly name = "SecretsUnavailable";
  /** The container reason to report. */
  get reason(): string {
    return `${SECRETS_REASON}: execution resource retrieval failed: ${this.message}`;
  }
}

/** How long the control plane has to answer; no answer is retried with the directive. */
const REPLY_TIMEOUT_MS = 10_000;

export type SecretsFetcher = (spec: TaskRuntimeSpec, signal: AbortSignal) => Promise<TaskSecrets>;

/**
 * Fetches a task's secrets over NATS (subjects.secrets of this instance). Throws
 * SecretsUnavailable when the control plane refuses; any other failure (no answer, the control
 * plane's own error) is an ordinary error, so the StartTask directive is retried later.
 */
export function natsSecretsFetcher(nc: NatsConnection, region: string, instanceId: string): SecretsFetcher {
  return async (spec) => {
    const refs = taskSecretRefs(spec);
    if (refs.length === 0) return new Map();
    const keys = ephemeralKeys();
    const req: SecretsRequest = { cluster: spec.cluster, taskArn: spec.taskArn, publicKey: keys.publicKey };
    const m = await nc.request(subjects.secrets(region, instanceId), JSON.stringify(req), { timeout: REPLY_TIMEOUT_MS });
    const reply = SecretsReply.parse(m.json());
    if (!reply.ok) {
      if (reply.code === "ServerException") throw new Error(`the control plane could not release secrets: ${reply.message}`);
      throw new SecretsUnavailable(reply.message);
    }
    const box = open(agreedKey(keys.privateKey, reply.publicKey, spec.taskArn), reply.box, spec.taskArn);
    let values: Record<string, unknown>;
    try {
      values = JSON.parse(box) as Record<string, unknown>;
    } catch {
      // JSON.parse quotes its input in its message: this one is made of secret values.
      throw new Error("the control plane's sealed answer is not JSON");
    }
    const out = new Map<string, string>();
    for (const ref of refs) {
      const v = values[ref];
      if (typeof v !== "string") throw new Error(`the control plane's answer lacks ${ref}`);
      out.set(ref, v);
    }
    return out;
  };
}
