import { existsSync } from "node:fs";
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";
import { controlPlaneAuth, readerAuth, usersFile } from "../security/nats-credentials.ts";
import { env, type Values } from "./args.ts";

/**
 * How the commands that speak to NATS themselves (`events`, `state`, `sim`) find it and log in:
 * `--nats`, and the user of a local `berth up` read from its data directory (`berth up` gives
 * its NATS users and permissions; without them anybody may connect, and no user is sent).
 * BERTH_NATS_USER / BERTH_NATS_PASSWORD name another user, for a NATS set up by hand.
 */

export const natsClientOptions = {
  nats: { type: "string" },
  "data-dir": { type: "string" },
} as const;

export const natsClientHelp = (user: "reader" | "control plane"): [string, string][] => [
  ["--nats URL", "NATS server(s), comma-separated (default $BERTH_NATS_URL or nats://127.0.0.1:4222)"],
  [
    "--data-dir DIR",
    `a local \`berth up\`'s data directory, whose ${user} user is used (default $BERTH_DATA_DIR or ./.berth)`,
  ],
  ["", "Environment: BERTH_NATS_USER and BERTH_NATS_PASSWORD override that user."],
];

/** Where the commands look for NATS when told nothing: `berth up`'s embedded server. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** The NATS servers a command was given: --nats, else $BERTH_NATS_URL, else the local default. */
export const natsServers = (v: Values): string[] => String(v.nats ?? env("BERTH_NATS_URL", DEFAULT_NATS_URL)).split(",");

/**
 * Connects, and when NATS cannot be reached says where it was looked for. A refused login is
 * passed to `onRefused`, which says as whom (each command knows where its user came from).
 */
export function connectOrExplain(
  options: ConnectionOptions & { servers: string[] },
  onRefused: (err: Error) => Error,
): Promise<NatsConnection> {
  return connect(options).catch((err: Error) => {
    if (/authorization/i.test(err.message)) throw onRefused(err);
    if (
      /refused|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|timeout/i.test(
        `${err.message} ${(err as NodeJS.ErrnoException).code ?? ""}`,
      )
    )
      throw new Error(
        `cannot reach NATS at ${options.servers.join(",")} (${err.message}): is nats-server running there?`,
      );
    throw err;
  });
}

/** A refused login of the user BERTH_NATS_USER names (berth server, berth agent). */
export const envLoginRefused = (role: string) => (err: Error) =>
  new Error(
    process.env.BERTH_NATS_USER
      ? `NATS refused the login of ${process.env.BERTH_NATS_USER} (${err.message}): check BERTH_NATS_USER and BERTH_NATS_PASSWORD (the ${role}'s env file from berth nats-auth), and that every nats-server was reloaded with the nats-auth.conf that has it`
      : `NATS refused a login without a user (${err.message}): set BERTH_NATS_USER and BERTH_NATS_PASSWORD (the ${role}'s env file from berth nats-auth)`,
  );

/** Connects as the reader of the event log, or as the control plane (`berth sim` acts for many agents). */
export function connectNats(
  v: Values,
  user: "reader" | "control plane",
  options: Omit<ConnectionOptions, "servers"> = {},
): Promise<NatsConnection> {
  const dataDir = String(v["data-dir"] ?? env("BERTH_DATA_DIR", ".berth"));
  const auth = user === "reader" ? readerAuth(dataDir) : controlPlaneAuth(dataDir);
  return connectOrExplain({ ...options, servers: natsServers(v), ...auth }, (err) => {
    // Say where the login came from: the usual cause is a --data-dir that is not berth up's.
    const from = process.env.BERTH_NATS_USER
      ? `the user BERTH_NATS_USER names (${process.env.BERTH_NATS_USER})`
      : existsSync(usersFile(dataDir))
        ? `the ${user} user of ${usersFile(dataDir)}`
        : `no user: ${usersFile(dataDir)} does not exist (give --data-dir of the \`berth up\` that runs this NATS, or BERTH_NATS_USER and BERTH_NATS_PASSWORD: for a NATS set up with berth nats-auth, load its ${user === "reader" ? "reader.env" : "control-plane.env"})`;
    return new Error(`NATS refused the login (${err.message}); it was tried with ${from}`);
  });
}
