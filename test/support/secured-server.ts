import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { stringify } from "yaml";
import { streams } from "../../events/names.ts";
import { uniqueName } from "./docker.ts";
import { type NatsServerHandle, startNatsServer } from "./nats-server.ts";
import { freePort } from "./ports.ts";
import { type ManagedProcess, spawnBerth } from "./processes.ts";

/** Access keys of the test credentials file. */
export const ADMIN = { accessKeyId: "AKIDBERTHADMIN000001", secretAccessKey: "admin/secret+KEY=0001" } as const;
export const READONLY = { accessKeyId: "AKIDBERTHREADER00002", secretAccessKey: "reader-secret-0002" } as const;
export const LIMITED = { accessKeyId: "AKIDBERTHLIMITED0003", secretAccessKey: "limited-secret-0003" } as const;
export const SESSION = {
  accessKeyId: "ASIABERTHSESSION0004",
  secretAccessKey: "session-secret-0004",
  sessionToken: "IQoJb3JpZ2luX2VjEBERTH//session+token=",
} as const;
export const NO_POLICY = { accessKeyId: "AKIDBERTHNOPOLICY005", secretAccessKey: "no-policy-secret-0005" } as const;

export const ACCOUNT = "123456789012";
export const principalOf = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;

/** The credentials file the secured server is started with (written as YAML). */
export function credentialsDocument(protectedCluster: string) {
  const admin = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ecs:*", Resource: "*" }] };
  return {
    accessKeys: {
      [ADMIN.accessKeyId]: {
        secretAccessKey: ADMIN.secretAccessKey,
        principal: principalOf("admin"),
        policies: [admin],
      },
      [READONLY.accessKeyId]: {
        secretAccessKey: READONLY.secretAccessKey,
        principal: principalOf("reader"),
        policies: [{ Statement: [{ Effect: "Allow", Action: ["ecs:Describe*", "ecs:List*"], Resource: "*" }] }],
      },
      [LIMITED.accessKeyId]: {
        secretAccessKey: LIMITED.secretAccessKey,
        policies: [
          admin,
          {
            Statement: [
              {
                Effect: "Deny",
                Action: "ecs:Delete*",
                Resource: `arn:aws:ecs:*:${ACCOUNT}:cluster/${protectedCluster}`,
              },
            ],
          },
        ],
      },
      [SESSION.accessKeyId]: {
        secretAccessKey: SESSION.secretAccessKey,
        sessionToken: SESSION.sessionToken,
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci`,
        policies: [admin],
      },
      [NO_POLICY.accessKeyId]: { secretAccessKey: NO_POLICY.secretAccessKey },
    },
  };
}

export interface SecuredServer {
  endpoint: string;
  nats: NatsServerHandle;
  server: ManagedProcess;
  /** A cluster name only the LIMITED key may not delete. */
  protectedCluster: string;
  /** Last sequence of the event stream (proves a refused request wrote nothing). */
  lastEventSeq(): Promise<number>;
  close(): Promise<void>;
}

/** A `berth server` (no agent) requiring SigV4 from the keys above, on its own nats-server. */
export async function startSecuredServer(prefix: string): Promise<SecuredServer> {
  const name = uniqueName(prefix);
  const protectedCluster = `${name}-protected`;
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const file = join(dir, "credentials.yaml");
  writeFileSync(file, stringify(credentialsDocument(protectedCluster)), { mode: 0o600 });
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = spawnBerth(["server", "--nats", nats.url, "--port", String(port), "--credentials", file], {
    name: `${name}-server`,
    env: { BERTH_LOG_FORMAT: "json", BERTH_LOG_LEVEL: "info", BERTH_ACCOUNT_ID: ACCOUNT },
  });
  let nc: NatsConnection | undefined;
  try {
    await server.waitForHttp(`${endpoint}/health`, 60_000);
    nc = await connect({ servers: nats.url });
  } catch (err) {
    await server.stop();
    await nats.stop();
    throw err;
  }
  const jsm = await jetstreamManager(nc);
  return {
    endpoint,
    nats,
    server,
    protectedCluster,
    async lastEventSeq() {
      return (await jsm.streams.info(streams.events)).state.last_seq;
    },
    async close() {
      await nc?.close();
      await server.stop();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
