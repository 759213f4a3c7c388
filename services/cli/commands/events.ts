import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Envelope } from "../../../events/envelope.ts";
import { streams, subjects } from "../../../events/names.ts";
import { type CommandSpec, UsageError } from "../args.ts";
import { connectNats, natsClientHelp, natsClientOptions } from "../nats-client.ts";

export const eventsCommand: CommandSpec = {
  name: "events",
  summary: "print the event log (the audit log): every decided fact with its sequence, time, subject and type",
  usage: "berth events [--since SEQ|TIME] [--follow] [--json] [--subject FILTER] [--nats URL]",
  options: {
    since: { type: "string" },
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
    subject: { type: "string" },
    ...natsClientOptions,
  },
  help: [
    ["--since SEQ|TIME", "start at a stream sequence (e.g. 1200) or a time (ISO 8601, e.g. 2026-11-21T10:00:00Z)"],
    ["-f, --follow", "keep printing new events as they are appended"],
    ["--json", "one JSON object per line: {seq, subject, envelope}"],
    ["--subject FILTER", "NATS subject filter (default berth.evt.>, e.g. 'berth.evt.*.task.>')"],
    ...natsClientHelp("reader"),
  ],
  async run(v) {
    const since = v.since === undefined ? undefined : String(v.since);
    let start: { deliver_policy: DeliverPolicy; opt_start_seq?: number; opt_start_time?: string } = {
      deliver_policy: DeliverPolicy.All,
    };
    if (since !== undefined) {
      if (/^\d+$/.test(since)) start = { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(since) };
      else if (!Number.isNaN(Date.parse(since)))
        start = { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(since).toISOString() };
      else throw new UsageError(`--since takes a sequence number or a time, not ${JSON.stringify(since)}`);
    }
    const nc = await connectNats(v, "reader", { name: "berth-events" });
    try {
      const jsm = await jetstreamManager(nc);
      const head = (await jsm.streams.info(streams.events)).state.last_seq;
      const filter = String(v.subject ?? subjects.allEvents);
      const consumer = await jetstream(nc).consumers.get(streams.events, { ...start, filter_subjects: filter });
      if (!v.follow) {
        const pending = (await consumer.info()).num_pending;
        if (pending === 0) return 0;
      }
      const messages = await consumer.consume();
      for await (const m of messages) {
        const env = Envelope.safeParse(m.json());
        if (v.json) {
          console.log(JSON.stringify({ seq: m.seq, subject: m.subject, envelope: env.success ? env.data : m.string() }));
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
