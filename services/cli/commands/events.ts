import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Envelope } from "../../../events/envelope.ts";
import { streams, subjects } from "../../../events/names.ts";
import { type CommandSpec, UsageError, type Values } from "../args.ts";
import { ecsEventLine } from "../ecs-event-line.ts";
import { connectNats, natsClientHelp, natsClientOptions } from "../nats-client.ts";
import { parseAt } from "./state.ts";

export const eventsCommand: CommandSpec = {
  name: "events",
  summary: "print the event log (the audit log): every decided fact with its sequence, time, subject and type",
  usage:
    "berth events [--since SEQ|TIME|DURATION] [--follow] [--json] [--subject FILTER] [--nats URL]\n       berth events --ecs [--json] [--subject FILTER] [--nats URL]",
  options: {
    since: { type: "string" },
    follow: { type: "boolean", short: "f" },
    ecs: { type: "boolean" },
    json: { type: "boolean" },
    subject: { type: "string" },
    ...natsClientOptions,
  },
  help: [
    [
      "--since SEQ|TIME|DURATION",
      "start at a stream sequence (e.g. 1200), a time (ISO 8601, e.g. 2026-11-21T10:00:00Z) or a duration ago (15m, 2h), that event included",
    ],
    ["-f, --follow", "keep printing new events as they are appended"],
    [
      "--ecs",
      "follow the ECS EventBridge-shaped events (task, container instance, service action, deployment) live; they are not stored: only those from now on",
    ],
    ["--json", "one JSON object per line: {seq, subject, envelope}; with --ecs, each event as published"],
    [
      "--subject FILTER",
      "NATS subject filter (default berth.evt.>, e.g. 'berth.evt.*.task.>'; with --ecs berth.ecs.>, e.g. 'berth.ecs.*.task-state-change')",
    ],
    ...natsClientHelp("reader"),
  ],
  examples: [
    "berth events --since 2026-11-21T10:00:00Z --subject 'berth.evt.*.service.>'",
    "berth events --follow --json | jq -c '.envelope | {type, subject}'",
    "berth events --ecs --subject 'berth.ecs.*.task-state-change'",
  ],
  async run(v) {
    const since = v.since === undefined ? undefined : String(v.since);
    if (v.ecs) {
      if (since !== undefined)
        throw new UsageError(
          "--since does not apply to --ecs: ECS events are not stored (the log is: berth events --since)",
        );
      return followEcsEvents(v, Boolean(v.json));
    }
    let start: { deliver_policy: DeliverPolicy; opt_start_seq?: number; opt_start_time?: string } = {
      deliver_policy: DeliverPolicy.All,
    };
    if (since !== undefined) {
      const cut = parseAt(since, Date.now(), "--since");
      start =
        cut.seq !== undefined
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: cut.seq }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(cut.time as number).toISOString() };
    }
    const filter = subjectFilter(v.subject, subjects.allEvents);
    const nc = await connectNats(v, "reader", { name: "berth-events" });
    try {
      const jsm = await jetstreamManager(nc);
      const head = (await jsm.streams.info(streams.events)).state.last_seq;
      const consumer = await jetstream(nc).consumers.get(streams.events, { ...start, filter_subjects: filter });
      if (!v.follow) {
        const pending = (await consumer.info()).num_pending;
        if (pending === 0) return 0;
      }
      const messages = await consumer.consume();
      for await (const m of messages) {
        const env = Envelope.safeParse(m.json());
        if (v.json) {
          console.log(
            JSON.stringify({ seq: m.seq, subject: m.subject, envelope: env.success ? env.data : m.string() }),
          );
        } else {
          const time = env.success ? env.data.time : new Date(m.info.timestampNanos / 1e6).toISOString();
          const type = env.success ? env.data.type : "(undecodable)";
          console.log(`${String(m.seq).padStart(8)}  ${time}  ${type.padEnd(26)}  ${m.subject}`);
        }
        if (!v.follow && (m.info.pending === 0 || m.seq >= head)) break;
      }
      return 0;
    } finally {
      await nc.close();
    }
  },
};

/**
 * ECS events are core NATS messages: subscribed, the subscription confirmed by a round trip to
 * the server (so nothing published after the banner is missed), then printed until interrupted.
 * A reader without permission for the subject ends with NATS's permissions violation.
 */
async function followEcsEvents(v: Values, json: boolean): Promise<number> {
  const filter = subjectFilter(v.subject, subjects.allEcsEvents);
  const nc = await connectNats(v, "reader", { name: "berth-events" });
  try {
    const sub = nc.subscribe(filter);
    await nc.flush();
    console.error(`following ECS events on ${filter}: only those published from now on (Ctrl-C to stop)`);
    for await (const m of sub) console.log(json ? m.string() : ecsEventLine(m.string()));
    return 0;
  } finally {
    await nc.close();
  }
}

/**
 * A --subject value as NATS takes it: dot-separated tokens, none empty or with spaces, `*` a
 * whole token, `>` only the whole last one. Anything else is a usage error, not NATS's refusal.
 */
function subjectFilter(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  const text = String(value);
  const tokens = text.split(".");
  const bad = tokens.some(
    (t, i) => t === "" || /\s/.test(t) || (t !== "*" && t.includes("*")) || (t.includes(">") && (t !== ">" || i !== tokens.length - 1)),
  );
  if (bad)
    throw new UsageError(
      `--subject takes a NATS subject filter: dot-separated tokens, * for one token, > for the rest at the end (e.g. 'berth.evt.*.task.>'), not ${JSON.stringify(text)}`,
    );
  return text;
}
