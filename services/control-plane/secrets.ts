import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import type { KV } from "@nats-io/kv";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { z } from "zod";
import { SealedBox, type SecretsReply, SecretsRequest, taskSecretRefs } from "../../events/agent.ts";
import { parseArn } from "../../events/arns.ts";
import { subjects } from "../../events/names.ts";
import type { ApiAuth } from "../api/auth/authenticator.ts";
import type { ApiServices } from "../api/context.ts";
import { EcsError } from "../api/errors.ts";
import { type HttpRoute, readBody, send } from "../api/server.ts";
import { agreedKey, ephemeralKeys, KEY_BYTES, open, SealError, seal } from "../security/sealed.ts";
import { messageJson } from "../store/message-json.ts";
import type { ReadModel } from "./read-model.ts";

/**
 * Berth's secret store: what ECS reads from Secrets Manager or SSM Parameter Store.
 *
 *   berth secret put NAME ──► PUT /berth/v1/secrets/NAME ──► seal(master key) ──► KV berth_secrets
 *   agent ──request berth.ctl.<r>.secrets.<instanceId> {taskArn}──► check placement ──► open ──►
 *         seal(agreed key) ──reply──► agent ──► container environment / log options / pull auth
 *
 * Values are write-only over HTTP (list shows names and times) and leave the control plane only
 * sealed to the agent of the instance the task is placed on, for exactly the references in the
 * task's definition. The master key (AES-256) never goes to NATS: it comes from $BERTH_SECRETS_KEY
 * (base64 of 32 bytes) or from a key file, `<data dir>/secrets.key`, created on first use (mode
 * 0600). Every control-plane replica must use the same key.
 */

export const SECRETS_PATH = "/berth/v1/secrets";
const ITEM_PATH = /^\/berth\/v1\/secrets\/[^/]+$/;
/** Secrets Manager's limit on a secret value. */
export const MAX_SECRET_BYTES = 65_536;
/** Secrets Manager's name alphabet and length; SSM hierarchical names start with '/'. */
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_BODY_BYTES = 4 * MAX_SECRET_BYTES;
/** Secrets Manager appends "-" and six random characters to a secret's name in its full ARN. */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

const StoredSecret = z.object({
  v: z.literal(1),
  /** Fingerprint of the master key that sealed it: a changed key is named, not a garbled value. */
  kid: z.string(),
  box: SealedBox,
  createdAt: z.number(),
  updatedAt: z.number(),
});

export interface SecretSummary {
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** A failure in Secrets Manager's terms (ResourceNotFoundException, DecryptionFailure, …). */
export class SecretError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// ── master key ───────────────────────────────────────────────────────────────────────────────

export interface MasterKeyOptions {
  /** Base64 of 32 bytes; wins over the file. Default $BERTH_SECRETS_KEY. */
  key?: string;
  /** Default `$BERTH_DATA_DIR/secrets.key` (`./.berth/secrets.key`). */
  keyFile?: string;
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== KEY_BYTES) throw new Error(`${where} must hold ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
  return key;
}

/**
 * Returns a loader of the master key. A key given in the environment is checked at once (a bad
 * one stops the server); the key file is read, or created, on first use only.
 */
export function masterKey(opts: MasterKeyOptions = {}): () => Promise<Buffer> {
  const fromEnv = opts.key ?? process.env.BERTH_SECRETS_KEY;
  if (fromEnv) {
    const key = decodeKey(fromEnv, "BERTH_SECRETS_KEY");
    return async () => key;
  }
  const file = opts.keyFile ?? join(process.env.BERTH_DATA_DIR ?? ".berth", "secrets.key");
  let loaded: Promise<Buffer> | undefined;
  return () => {
    loaded ??= keyFromFile(file).catch((err) => {
      loaded = undefined;
      throw err;
    });
    return loaded;
  };
}

async function keyFromFile(file: string): Promise<Buffer> {
  try {
    return decodeKey(await readFile(file, "utf8"), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: of two replicas creating it at once, one wins and the other reads the winner's key.
    await writeFile(file, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return decodeKey(await readFile(file, "utf8"), file);
}

const fingerprint = (key: Buffer) => createHash("sha256").update("berth secrets key id").update(key).digest("hex").slice(0, 16);

// ── references ───────────────────────────────────────────────────────────────────────────────

export interface SecretRef {
  /** Names to look up, in order (a full Secrets Manager ARN's name with and without its suffix). */
  names: string[];
  /** Secrets Manager's `:json-key`: the value is a JSON object, the reference is one of its members. */
  jsonKey?: string;
}

/**
 * What a `valueFrom` / `credentialsParameter` names: a secret name, a Secrets Manager ARN
 * (`arn:aws:secretsmanager:<region>:<account>:secret:<name>[:json-key[:version-stage[:version-id]]]`)
 * or an SSM parameter ARN (`arn:aws:ssm:<region>:<account>:parameter/<name>`). Region and account
 * are not checked: the store is the control plane's own.
 */
export function parseSecretRef(valueFrom: string): SecretRef {
  const asm = /^arn:[a-z-]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(valueFrom);
  if (asm) {
    const [name = "", jsonKey = "", stage = "", versionId = "", ...rest] = (asm[1] as string).split(":");
    if (rest.length || versionId || (stage && stage !== "AWSCURRENT"))
      throw new SecretError("InvalidParameterException", `${valueFrom}: only the current version of a secret (AWSCURRENT) can be referenced`);
    checkName(name, valueFrom);
    const names = ARN_SUFFIX.test(name) ? [name, name.replace(ARN_SUFFIX, "")] : [name];
    return { names, ...(jsonKey ? { jsonKey } : {}) };
  }
  const ssm = /^arn:[a-z-]+:ssm:[^:]*:[^:]*:parameter\/(.+)$/.exec(valueFrom);
  if (ssm) {
    const path = ssm[1] as string;
    // A hierarchical parameter's name starts with '/', which its ARN leaves out.
    const name = path.includes("/") ? `/${path}` : path;
    checkName(name, valueFrom);
    return { names: [name] };
  }
  checkName(valueFrom, valueFrom);
  return { names: [valueFrom] };
}

function checkName(name: string, ref: string): void {
  if (!SECRET_NAME.test(name))
    throw new SecretError("InvalidParameterException", `${ref} is not a secret name or a secretsmanager / ssm parameter ARN`);
}

// ── the store ────────────────────────────────────────────────────────────────────────────────

/** KV keys allow a narrower alphabet than secret names: the key is the name in base64url. */
const kvKey = (name: string) => Buffer.from(name, "utf8").toString("base64url");
const nameOf = (key: string) => Buffer.from(key, "base64url").toString("utf8");

export class SecretStore {
  constructor(
    private readonly kv: KV,
    private readonly key: () => Promise<Buffer>,
    private readonly clock: () => number,
  ) {}

  async put(name: string, value: string): Promise<SecretSummary> {
    if (!SECRET_NAME.test(name)) throw new SecretError("InvalidParameterException", "A secret name has 1 to 512 letters, digits and /_+=.@- characters.");
    if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES)
      throw new SecretError("InvalidParameterException", `A secret value is at most ${MAX_SECRET_BYTES} bytes.`);
    const key = await this.key();
    const now = this.clock();
    const before = await this.stored(name);
    const record: z.infer<typeof StoredSecret> = {
      v: 1,
      kid: fingerprint(key),
      box: seal(key, value, name),
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
    };
    await this.kv.put(kvKey(name), JSON.stringify(record));
    return { name, createdAt: record.createdAt, updatedAt: record.updatedAt };
  }

  async list(): Promise<SecretSummary[]> {
    const out: SecretSummary[] = [];
    for await (const k of await this.kv.keys()) {
      const name = nameOf(k);
      const s = await this.stored(name);
      if (s) out.push({ name, createdAt: s.createdAt, updatedAt: s.updatedAt });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Purged, not only marked deleted: no earlier ciphertext stays in the bucket. */
  async remove(name: string): Promise<boolean> {
    if (!SECRET_NAME.test(name) || !(await this.stored(name))) return false;
    await this.kv.purge(kvKey(name));
    return true;
  }

  /** The value a reference names; SecretError when it cannot be had. */
  async resolve(valueFrom: string): Promise<string> {
    const ref = parseSecretRef(valueFrom);
    for (const name of ref.names) {
      const s = await this.stored(name);
      if (!s) continue;
      const key = await this.key();
      if (s.kid !== fingerprint(key))
        throw new SecretError("DecryptionFailure", `the secret ${name} was stored under another master key than this server's`);
      let value: string;
      try {
        value = open(key, s.box, name);
      } catch (err) {
        if (err instanceof SealError) throw new SecretError("DecryptionFailure", `the secret ${name} does not decrypt`);
        throw err;
      }
      return ref.jsonKey === undefined ? value : jsonMember(value, ref.jsonKey, name);
    }
    throw new SecretError("ResourceNotFoundException", `Berth's secret store can't find the secret ${ref.names[0]}`);
  }

  private async stored(name: string): Promise<z.infer<typeof StoredSecret> | undefined> {
    const e = await this.kv.get(kvKey(name));
    if (e?.operation !== "PUT" || e.length === 0) return undefined;
    const parsed = StoredSecret.safeParse(e.json());
    return parsed.success ? parsed.data : undefined;
  }
}

function jsonMember(value: string, member: string, name: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    doc = undefined;
  }
  const v = doc !== null && typeof doc === "object" ? (doc as Record<string, unknown>)[member] : undefined;
  // The message names the member, never the value.
  if (v === undefined) throw new SecretError("ResourceNotFoundException", `the secret ${name} is not a JSON object with the key ${member}`);
  return typeof v === "string" ? v : JSON.stringify(v);
}

// ── agents ───────────────────────────────────────────────────────────────────────────────────

/**
 * Answers agents' secret requests (subjects.secretsAnyInstance). An agent gets the values of a
 * task only when the read model places that task on the agent's own instance and it is not
 * STOPPED. A task this replica does not know yet (another replica placed it a moment ago) is
 * looked up again once the read model has caught up with the log.
 */
export function serveAgentSecrets(d: {
  nc: NatsConnection;
  model: ReadModel;
  store: SecretStore;
  catchUp: () => Promise<void>;
  log: Logger;
}): Subscription {
  return d.nc.subscribe(subjects.secretsAnyInstance, {
    queue: "berth-control-plane",
    callback: (_e, m) => {
      void answer(d, m).then(
        (reply) => m.respond(JSON.stringify(reply)),
        (err) => {
          d.log.error({ err, subject: m.subject }, "secret request failed");
          m.respond(JSON.stringify({ ok: false, code: "ServerException", message: "the control plane could not answer" }));
        },
      );
    },
  });
}

async function answer(
  d: { model: ReadModel; store: SecretStore; catchUp: () => Promise<void>; log: Logger },
  m: Msg,
): Promise<SecretsReply> {
  const [, , region = "", , instanceId = ""] = m.subject.split(".");
  const parsed = SecretsRequest.safeParse(messageJson(m));
  if (!parsed.success) return { ok: false, code: "InvalidParameterException", message: "not a secrets request" };
  const req = parsed.data;
  const arn = parseArn(req.taskArn);
  if (arn?.kind !== "task" || arn.path.length !== 2 || arn.region !== region || arn.path[0] !== req.cluster)
    return { ok: false, code: "InvalidParameterException", message: `${req.taskArn} is not a task of cluster ${req.cluster} in ${region}` };
  const subject = subjects.task(region, req.cluster, arn.path[1] as string);
  const placed = () => {
    const t = d.model.tasks.get(subject)?.snapshot;
    return t && t.context.instanceId === instanceId && t.value !== "STOPPED" ? t.context : undefined;
  };
  let task = placed();
  if (!task) {
    await d.catchUp();
    task = placed();
  }
  const log = d.log.child({ taskArn: req.taskArn, instanceId });
  if (!task) {
    log.warn("secrets refused: the task is not live on the asking instance");
    return { ok: false, code: "AccessDeniedException", message: `task ${req.taskArn} is not running on container instance ${instanceId}` };
  }
  const values: Record<string, string> = {};
  for (const ref of taskSecretRefs(task.spec)) {
    try {
      values[ref] = await d.store.resolve(ref);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      log.warn({ ref, code: err.code }, "secret not released");
      return { ok: false, code: err.code, message: `unable to retrieve secret from ${ref}: ${err.code}: ${err.message}` };
    }
  }
  let key: Buffer;
  const own = ephemeralKeys();
  try {
    key = agreedKey(own.privateKey, req.publicKey, req.taskArn);
  } catch (err) {
    if (err instanceof SealError) return { ok: false, code: "InvalidParameterException", message: err.message };
    throw err;
  }
  log.info({ refs: Object.keys(values) }, "secrets released to the task's agent");
  return { ok: true, publicKey: own.publicKey, box: seal(key, JSON.stringify(values), req.taskArn) };
}

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────

/**
 * GET /berth/v1/secrets → {"secrets":[{name, createdAt, updatedAt}]} (epoch seconds, no values);
 * PUT /berth/v1/secrets/<url-encoded name> {"value": "…"} → {name, createdAt, updatedAt};
 * DELETE /berth/v1/secrets/<url-encoded name> → {name}.
 * With credentials configured each call is SigV4-signed and authorized as the ECS action
 * ListSecrets / PutSecret / DeleteSecret (so `ecs:*` allows them). Errors are ECS-style JSON.
 */
export function secretsRoutes(d: { store: SecretStore; services: ApiServices; auth?: ApiAuth; log: Logger }): HttpRoute[] {
  const route =
    (action: string, fn: (req: IncomingMessage, body: Buffer) => Promise<{ status: number; body: unknown }>) =>
    async (req: IncomingMessage, res: ServerResponse) => {
      const requestId = randomUUID();
      try {
        const body = await readBody(req, MAX_BODY_BYTES);
        const identity = d.auth?.authenticate(req, body);
        if (identity) {
          const name = itemName(req);
          const scope = { region: identity.region, account: d.services.account };
          d.auth?.authorize(identity, action, name === undefined ? {} : { name }, scope, d.services);
        }
        const out = await fn(req, body);
        send(res, requestId, out.status, out.body);
      } catch (err) {
        const e =
          err instanceof EcsError
            ? err
            : err instanceof SecretError
              ? new EcsError(err.code, err.message, err.code === "ResourceNotFoundException" ? 404 : 400)
              : undefined;
        if (e) return send(res, requestId, e.status, { __type: e.code, message: e.message });
        // Never the request: its body is a secret value.
        d.log.error({ err: (err as Error).message, requestId, action }, "secret request failed");
        send(res, requestId, 500, { __type: "ServerException", message: "Internal error." });
      }
    };
  const seconds = (s: SecretSummary) => ({ name: s.name, createdAt: s.createdAt / 1000, updatedAt: s.updatedAt / 1000 });
  return [
    {
      method: "GET",
      path: SECRETS_PATH,
      handle: route("ListSecrets", async () => ({ status: 200, body: { secrets: (await d.store.list()).map(seconds) } })),
    },
    {
      method: "PUT",
      path: ITEM_PATH,
      handle: route("PutSecret", async (req, body) => {
        const name = requiredName(req);
        let input: unknown;
        try {
          input = JSON.parse(body.toString("utf8"));
        } catch {
          throw new EcsError("SerializationException", "The request body is not valid JSON.");
        }
        const value = (input as { value?: unknown } | null)?.value;
        if (typeof value !== "string") throw new EcsError("InvalidParameterException", "value is required and must be a string.");
        const saved = await d.store.put(name, value);
        d.log.info({ name }, "secret stored");
        return { status: 200, body: seconds(saved) };
      }),
    },
    {
      method: "DELETE",
      path: ITEM_PATH,
      handle: route("DeleteSecret", async (req) => {
        const name = requiredName(req);
        if (!(await d.store.remove(name))) throw new SecretError("ResourceNotFoundException", `Berth's secret store can't find the secret ${name}.`);
        d.log.info({ name }, "secret removed");
        return { status: 200, body: { name } };
      }),
    },
  ];
}

function itemName(req: IncomingMessage): string | undefined {
  const path = (req.url ?? "/").split("?")[0] as string;
  if (!ITEM_PATH.test(path)) return undefined;
  try {
    return decodeURIComponent(path.slice(SECRETS_PATH.length + 1));
  } catch {
    return undefined;
  }
}

function requiredName(req: IncomingMessage): string {
  const name = itemName(req);
  if (name === undefined || !SECRET_NAME.test(name))
    throw new EcsError("InvalidParameterException", "A secret name has 1 to 512 letters, digits and /_+=.@- characters.");
  return name;
}

