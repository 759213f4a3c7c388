import { type CommandSpec, UsageError } from "../args.ts";
import { ApiError, connectionHelp, connectionOptions, ecsClient, intOption, signedGet, type Target, target } from "../client.ts";

/** The control plane's log route (services/control-plane/logs-route.ts). */
const LOGS_PATH = "/berth/v1/logs";

interface Line {
  stream?: "stdout" | "stderr";
  data?: string;
  end?: string;
  message?: string;
}

/** Lines of an NDJSON body as they arrive. */
async function* ndjson(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) yield line;
      nl = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered.trim()) yield buffered;
}

function query(t: Target, task: string, o: { container?: string; tail?: number; follow: boolean }): string {
  const q = new URLSearchParams({ region: t.region, cluster: t.cluster, task });
  if (o.container !== undefined) q.set("container", o.container);
  if (o.tail !== undefined) q.set("tail", String(o.tail));
  if (o.follow) q.set("follow", "1");
  return `${LOGS_PATH}?${q}`;
}

export const logsCommand: CommandSpec = {
  name: "logs",
  summary: "print a task container's output (stdout to stdout, stderr to stderr), read through its host's agent",
  usage: "berth logs <task-id|task-arn> [--container NAME] [--follow] [--tail N] [options]",
  options: {
    ...connectionOptions,
    container: { type: "string", short: "c" },
    follow: { type: "boolean", short: "f" },
    tail: { type: "string", short: "n" },
  },
  allowPositionals: true,
  help: [
    ["-c, --container NAME", "which container of the task (default: its first container)"],
    ["-f, --follow", "keep printing output as it is written, until the container stops or Ctrl-C"],
    ["-n, --tail N", "start with the last N lines (default: the agent's 1000)"],
    ...connectionHelp.map(([flag, text]): [string, string] => (flag === "--json" ? [flag, "print the route's NDJSON lines: {stream, data} … {end}"] : [flag, text])),
  ],
  examples: ["berth logs 4f1c9a0e2b7d4c55a1e3f6b8d9c0e1f2 --tail 50", "berth logs 4f1c9a0e2b7d4c55a1e3f6b8d9c0e1f2 -c web -f"],
  async run(v, positionals) {
    if (positionals.length !== 1) throw new UsageError("name exactly one task (its id or ARN)");
    const task = positionals[0] as string;
    const t = target(v);
    const ecs = ecsClient(t);
    const follow = Boolean(v.follow);
    const container = v.container === undefined ? undefined : String(v.container);
    let tail: number | undefined = v.tail === undefined ? undefined : intOption(v.tail, "--tail", 0, 0);
    for (;;) {
      const res = await signedGet(ecs, t, query(t, task, { container, tail, follow }));
      if (!res.ok || !res.body) {
        const text = await res.text();
        let err: { __type?: string; message?: string } = {};
        try {
          err = JSON.parse(text);
        } catch {
          // not an ECS-style error body: quote it
        }
        throw new ApiError(err.__type ?? `HTTP${res.status}`, err.message ?? (text.slice(0, 200) || res.statusText));
      }
      let end: Line | undefined;
      for await (const raw of ndjson(res.body)) {
        let line: Line;
        try {
          line = JSON.parse(raw) as Line;
        } catch {
          throw new ApiError("ServerException", `unreadable log line from the server: ${raw.slice(0, 200)}`);
        }
        if (v.json) console.log(raw);
        if (line.end !== undefined) {
          end = line;
          break;
        }
        if (!v.json) (line.stream === "stderr" ? process.stderr : process.stdout).write(line.data ?? "");
      }
      if (!end) throw new ApiError("ServerException", "the log stream ended early (the server or the agent went away)");
      if (end.end === "error") throw new ApiError("ServerException", `the agent could not read the output: ${end.message ?? "no detail"}`);
      // A followed log ends at the agent's deadline; asking again from now on keeps following.
      if (follow && end.end === "deadline") {
        tail = 0;
        continue;
      }
      return 0;
    }
  },
};
