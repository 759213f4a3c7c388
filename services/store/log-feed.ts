import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstreamManager, ReplayPolicy } from "@nats-io/jetstream";
import {
  createInbox,
  type Msg,
  type NatsConnection,
  nanos,
  type Status,
  type Subscription,
} from "@nats-io/transport-node";
import type { Logger } from "pino";
import { type AckSequences, parseAck } from "./ack-subject.ts";

/**
 * Idle heartbeat the server sends on a quiet consumer, and how often the feed checks that
 * something came. Three checks in a row with nothing at all (more than two heartbeat intervals of
 * silence, so a late heartbeat is no alarm) mean the consumer is gone, its server dead or
 * restarted: noticed within 6 s, as the ordered consumer's 5 s pulls had it
 * (test/chaos/nats-kill.test.ts, test/chaos/nats-cluster.test.ts).
 */
const HEARTBEAT_MS = 2_000;
const QUIET_CHECKS = 3;
/** A consumer nobody listens to any more (its follower died) is removed by the server after this. */
const INACTIVE_MS = 30_000;
/** How often the position is compared with the end of the stream (see checkStalled()). */
const STALL_CHECK_MS = 2_500;
/** Consecutive checks that must find the feed behind and not moving before it recreates its consumer. */
const STALLED_CHECKS = 2;
const RECREATE_MAX_DELAY_MS = 2_000;
/**
 * How long the feed waits for an answer from the JetStream API (consumer creation, stream info).
 * Shorter than the client's default 5 s: while a NATS cluster elects new leaders a request can go
 * unanswered, and the next attempt is what succeeds once they are back, so a long wait adds to
 * the read model's stall (test/chaos/nats-cluster.test.ts once saw 22 s with 5 s attempts).
 */
const API_TIMEOUT_MS = 2_000;
/** Direct gets in flight at once while bridging: a backlog is caught up in windows this wide. */
const BRIDGE_WINDOW = 32;
/** How long the bridge waits before asking again when the next message is not stored yet. */
const BRIDGE_IDLE_MS = 100;

/** Called with each message of the stream, in order, once: its stream sequence, subject and payload. */
export type Deliver = (seq: number, subject: string, data: Uint8Array) => void;

/**
 * Pushes every message of a stream from a sequence, in order and once each, through an ephemeral
 * push consumer of its own (acks none, flow control, idle heartbeats, in memory) on a core
 * subscription. What the client's ordered consumer does, without its cost per message (a JsMsg,
 * the ack subject split into eleven strings, a clock read for the heartbeat monitor, pull
 * requests): on a long replay about a tenth of the main thread's time, and of nats-server's
 * (docs/performance.md).
 *
 * Invariant: `position` is the stream sequence of the last message delivered, and every consumer
 * is created to start right after it. A consumer is recreated (on a fresh inbox, so nothing from
 * the one before can arrive) when its delivery sequence skips, when a heartbeat reports messages
 * that never came, when heartbeats stop, when the connection comes back, and when the stream has
 * moved on while the feed has not (a consumer on a cluster member that died can stay silent
 * without the client noticing).
 *
 * Bridge: creating a consumer needs the JetStream meta leader and a live member to place it on,
 * and a NATS cluster that lost a member can take tens of seconds to offer both (a Raft election
 * waits 4-9 s per round; test/chaos/nats-cluster.test.ts saw consumer creation time out for 12 s
 * after the log's new leader was elected). Meanwhile every write waits for the read model. So
 * while no consumer delivers (one is being created, or nothing at all came for a heartbeat
 * interval) the feed reads on by direct gets (`allow_direct` on the stream: any replica answers,
 * no consumer and no leader needed), message by message from the position, and stops as soon
 * as a consumer delivers again. Both paths deliver only the message right after the position, so
 * nothing is delivered twice or out of order. The bridge stops at a sequence no replica has, so a
 * deleted message in the stream (none is, in Berth's log) waits for the consumer.
 */
export class LogFeed {
  private position = 0;
  private stopped = false;
  private jsm: JetStreamManager | undefined;
  private sub: Subscription | undefined;
  private consumer: string | undefined;
  /** Delivery sequence of the current consumer's last message: the next must be one more. */
  private delivered = 0;
  private readonly ack: AckSequences = { stream: 0, delivery: 0 };
  /** Messages (events and statuses) received; the heartbeat check only asks whether it moved. */
  private received = 0;
  private receivedAtTick = 0;
  private quietTicks = 0;
  /** A recreation in flight; `again` asks for one more when it ends (a later cause came in meanwhile). */
  private recreating = false;
  private again = false;
  private attempt = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private checkedPosition = 0;
  private behind = 0;
  private statuses: AsyncIterable<Status> | undefined;
  private bridging = false;
  /** Messages delivered by direct gets (`bridged` in the log when a bridge ends). */
  private bridged = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly log: Logger,
    private readonly deliver: Deliver,
  ) {}

  /** Stream sequence of the last message delivered. */
  get seq(): number {
    return this.position;
  }

  /** Starts delivering from `fromSeq`; resolves once the first consumer exists. */
  async start(fromSeq: number): Promise<void> {
    this.position = fromSeq - 1;
    this.checkedPosition = this.position;
    this.jsm = await jetstreamManager(this.nc, { checkAPI: false, timeout: API_TIMEOUT_MS });
    await this.createConsumer();
    this.heartbeatTimer = setInterval(() => this.checkHeartbeats(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
    this.stallTimer = setInterval(() => void this.checkStalled(), STALL_CHECK_MS);
    this.stallTimer.unref();
    void this.watchConnection();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.stallTimer);
    (this.statuses as { stop?: () => void } | undefined)?.stop?.();
    this.sub?.unsubscribe();
    await this.dropConsumer();
  }

  /** One message on the current consumer's inbox: an event, or a status from the server. */
  private onMessage(m: Msg): void {
    this.received++;
    const ack = this.ack;
    if (!parseAck(m.reply ?? "", ack)) {
      this.onStatus(m);
      return;
    }
    if (ack.delivery !== this.delivered + 1) {
      this.recreate("delivery sequence skipped");
      return;
    }
    this.delivered = ack.delivery;
    if (ack.stream <= this.position) return; // a new consumer starts after the position; be sure
    this.position = ack.stream;
    this.deliver(ack.stream, m.subject, m.data);
  }

  private onStatus(m: Msg): void {
    const h = m.headers;
    if (!h) return;
    const what = h.description.toLowerCase();
    if (h.code === 100 && what === "flowcontrol request") {
      // Answered at once: every message sent before it has been delivered (delivery is synchronous).
      m.respond();
      return;
    }
    if (h.code === 100 && what === "idle heartbeat") {
      const last = Number(h.get("Nats-Last-Consumer") || "0");
      if (last > this.delivered) {
        this.recreate("heartbeat reports messages not received");
        return;
      }
      // The server waits for a flow control answer it believes lost: answer again.
      const stalled = h.get("Nats-Consumer-Stalled");
      if (stalled) this.nc.publish(stalled);
      return;
    }
    if (h.code === 409) this.recreate(`consumer ended: ${what}`);
  }

  /** Replaces the consumer by one starting after the position; retries while NATS is away. */
  private recreate(reason: string): void {
    if (this.stopped) return;
    if (this.recreating) {
      this.again = true;
      return;
    }
    this.log.warn({ seq: this.position, reason }, "log feed recreating its consumer");
    void this.createConsumer();
    void this.bridge();
  }

  private async createConsumer(): Promise<void> {
    this.recreating = true;
    try {
      for (;;) {
        this.again = false;
        this.sub?.unsubscribe();
        void this.dropConsumer();
        const inbox = createInbox();
        const sub = this.nc.subscribe(inbox, {
          callback: (err, m) => {
            if (sub !== this.sub) return;
            if (err) this.log.warn({ err }, "log feed subscription failed");
            else this.onMessage(m);
          },
        });
        this.sub = sub;
        this.delivered = 0;
        this.quietTicks = 0;
        try {
          // Subscribed first: the consumer pushes as soon as it exists, before its creation is answered.
          const ci = await (this.jsm as JetStreamManager).consumers.add(this.stream, {
            deliver_subject: inbox,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: this.position + 1,
            ack_policy: AckPolicy.None,
            replay_policy: ReplayPolicy.Instant,
            flow_control: true,
            idle_heartbeat: nanos(HEARTBEAT_MS),
            inactive_threshold: nanos(INACTIVE_MS),
            mem_storage: true,
            num_replicas: 1,
          });
          if (sub === this.sub) this.consumer = ci.name;
          this.attempt = 0;
        } catch (err) {
          if (this.stopped) return;
          this.attempt++;
          this.log.warn(
            { err, attempt: this.attempt, seq: this.position },
            "log feed consumer not created yet; retrying",
          );
          await new Promise((r) => setTimeout(r, Math.min(RECREATE_MAX_DELAY_MS, 250 * this.attempt)));
          this.again = true;
        }
        if (!this.again || this.stopped) return;
      }
    } finally {
      this.recreating = false;
    }
  }

  private async dropConsumer(): Promise<void> {
    const name = this.consumer;
    this.consumer = undefined;
    if (name) await this.jsm?.consumers.delete(this.stream, name).catch(() => {});
  }

  /** Nothing at all (no event, no heartbeat) for QUIET_CHECKS checks: the consumer is gone. */
  private checkHeartbeats(): void {
    if (this.recreating) return;
    if (this.received !== this.receivedAtTick) {
      this.receivedAtTick = this.received;
      this.quietTicks = 0;
      return;
    }
    // One interval of silence: read on directly while it is not yet clear whether the consumer is gone.
    if (++this.quietTicks === 1) void this.bridge();
    if (this.quietTicks >= QUIET_CHECKS) this.recreate("heartbeats missed");
  }

  /**
   * Reads the stream on from the position by direct gets while no consumer delivers: until the
   * consumer being created exists and one of its messages (or heartbeats) has come. See the class
   * comment.
   */
  private async bridge(): Promise<void> {
    if (this.bridging || this.stopped || !this.jsm) return;
    this.bridging = true;
    const jsm = this.jsm;
    const receivedAtStart = this.received;
    const bridgedAtStart = this.bridged;
    // One message asked at a time until one is there, then a window at a time while they are.
    let width = 1;
    try {
      while (!this.stopped && (this.recreating || this.received === receivedAtStart)) {
        const from = this.position + 1;
        const window = await Promise.all(
          Array.from({ length: width }, (_, i) =>
            jsm.direct.getMessage(this.stream, { seq: from + i }).catch(() => null),
          ),
        );
        let advanced = false;
        for (const m of window) {
          // A message the consumer delivered meanwhile, or one after a gap: the rest waits.
          if (!m || m.seq !== this.position + 1) break;
          this.position = m.seq;
          this.bridged++;
          advanced = true;
          this.deliver(m.seq, m.subject, m.data);
        }
        width = advanced ? BRIDGE_WINDOW : 1;
        if (!advanced) await new Promise((r) => setTimeout(r, BRIDGE_IDLE_MS));
      }
    } finally {
      this.bridging = false;
      if (this.bridged > bridgedAtStart)
        this.log.warn(
          { seq: this.position, bridged: this.bridged - bridgedAtStart },
          "log feed read on by direct gets while it had no consumer",
        );
    }
  }

  /**
   * When the server holding the (single-replica) consumer dies in a NATS cluster, nothing may
   * say so (test/chaos/nats-cluster.test.ts). So every STALL_CHECK_MS this compares the position
   * with the end of the stream: behind and not moving, twice in a row, it recreates the consumer.
   */
  private async checkStalled(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const moving = this.position !== this.checkedPosition;
      this.checkedPosition = this.position;
      if (moving) {
        this.behind = 0;
        return;
      }
      let last: number;
      try {
        last = (await (this.jsm as JetStreamManager).streams.info(this.stream)).state.last_seq;
      } catch {
        return; // NATS away: nothing to compare, nothing to create a consumer on either
      }
      this.behind = last > this.position ? this.behind + 1 : 0;
      if (this.behind < STALLED_CHECKS) return;
      this.behind = 0;
      this.recreate(`stalled behind the end of the stream at ${last}`);
    } finally {
      this.checking = false;
    }
  }

  /** Back from a disconnection: whatever the consumer sent meanwhile is lost, so start again after the position. */
  private async watchConnection(): Promise<void> {
    this.statuses = this.nc.status();
    for await (const s of this.statuses) {
      if (this.stopped) break;
      if (s.type === "reconnect") this.recreate("reconnected");
    }
  }
}
