import { readFile } from "node:fs/promises";
import { type CommandSpec, UsageError } from "../args.ts";
import { ApiError, connectionHelp, connectionOptions, ecsClient, printJson, signedRequest, type Target, target, type Values } from "../client.ts";
import { ago, table } from "../table.ts";

/** The control plane's secret route (services/control-plane/secrets.ts). */
const SECRETS_PATH = "/berth/v1/secrets";

interface Summary {
  name: string;
  createdAt: number;
  updatedAt: number;
}

async function call(v: Values, method: string, path: string, body?: unknown): Promise<unknown> {
  const t: Target = target(v);
  const res = await signedRequest(ecsClient(t), t, method, path, body);
  const text = await res.text();
  let json: { __type?: string; message?: string } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(json?.__type ?? `HTTP${res.status}`, json?.message ?? (text.slice(0, 200) || res.statusText));
  return json;
}

const itemPath = (name: string) => `${SECRETS_PATH}/${encodeURIComponent(name)}`;
/** The route's epoch seconds as ISO 8601, as --json prints every other timestamp. */
const iso = (s: Summary) => ({ ...s, createdAt: new Date(s.createdAt * 1000), updatedAt: new Date(s.updatedAt * 1000) });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The value to store: --value, --from-file, or standard input (never a prompt echoing it). */
async function secretValue(v: Values): Promise<string> {
  if (v.value !== undefined && v["from-file"] !== undefined) throw new UsageError("give --value or --from-file, not both");
  if (process.stdin.isTTY && v.value === undefined && v["from-file"] === undefined)
    throw new UsageError("give the value with --value or --from-file, or pipe it in (printf %s VALUE | berth secret put NAME)");
  const value =
    v.value !== undefined ? String(v.value) : v["from-file"] !== undefined ? await readFile(String(v["from-file"]), "utf8") : await readStdin();
  // As Secrets Manager and Parameter Store, no empty value: an empty pipe is most often a mistake.
  if (value === "") throw new UsageError("the value is empty: nothing stored");
  return value;
}

export const secretCommand: CommandSpec = {
  name: "secret",
  summary: "store, list and remove secrets that task definitions name in secrets / repositoryCredentials",
  usage: "berth secret put NAME [--value V | --from-file F] | berth secret ls | berth secret rm NAME [options]",
  options: {
    endpoint: connectionOptions.endpoint,
    region: connectionOptions.region,
    json: connectionOptions.json,
    value: { type: "string" },
    "from-file": { type: "string" },
  },
  allowPositionals: true,
  help: [
    ["put NAME", "store a secret (a new value replaces the old one); values are write-only"],
    ["ls", "list the secrets' names and when they were stored"],
    ["rm NAME", "remove a secret"],
    ["", "A task definition names a secret by its name or by an ARN ending in :secret:NAME or :parameter/NAME."],
    ["--value V", "the value (visible to other users of this machine in the process list: prefer the next two)"],
    ["--from-file F", "the value is the file's content, as it is (no newline stripped)"],
    ["", "Without either, put reads the value piped to it (a terminal is not read: the value would show)."],
    ...connectionHelp.filter(([flag]) => flag !== "--cluster NAME"),
  ],
  examples: [
    "printf %s 's3cr3t' | berth secret put db-password",
    "berth secret put registry --from-file registry.json   # {\"username\":\"…\",\"password\":\"…\"}",
    "berth secret ls",
    "berth secret rm db-password",
  ],
  async run(v, positionals) {
    const [verb, name, ...rest] = positionals;
    if (rest.length) throw new UsageError(`unexpected ${JSON.stringify(rest[0])}`);
    switch (verb) {
      case "put": {
        if (!name) throw new UsageError("name the secret: berth secret put NAME");
        const out = (await call(v, "PUT", itemPath(name), { value: await secretValue(v) })) as Summary;
        if (v.json) printJson(iso(out));
        else console.log(`stored secret ${out.name}`);
        return 0;
      }
      case "ls": {
        if (name) throw new UsageError("ls takes no name");
        const out = (await call(v, "GET", SECRETS_PATH)) as { secrets: Summary[] };
        if (v.json) printJson({ secrets: out.secrets.map(iso) });
        else if (out.secrets.length === 0) console.log("No secrets.");
        else {
          const now = Date.now();
          console.log(table(["NAME", "CREATED", "UPDATED"], out.secrets.map((s) => [s.name, ago(s.createdAt, now), ago(s.updatedAt, now)])));
        }
        return 0;
      }
      case "rm": {
        if (!name) throw new UsageError("name the secret: berth secret rm NAME");
        await call(v, "DELETE", itemPath(name));
        if (!v.json) console.log(`removed secret ${name}`);
        return 0;
      }
      default:
        throw new UsageError(verb ? `unknown subcommand ${JSON.stringify(verb)}: put, ls or rm` : "say put, ls or rm");
    }
  },
};
