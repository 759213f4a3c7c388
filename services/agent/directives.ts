import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { type DeregisteredDirective, Directive } from "../../events/agent.ts";
import { consumers, streams, subjects } from "../../events/names.ts";
import { watchConsumer } from "../store/consumer-watchdog.ts";
import { isDockerError } from "./docker/port.ts";
import { Aborted, backoffMs, retry, sleep } from "./retry.ts";
import type { TaskRunner } from "./task-runner.ts";

const NS_PER_MS = 1_000_000;
/** Unacknowledged directives come back after this long; a handler in progress says `working()` more often. */
const ACK_WAIT_MS = 30_000;
const WORKING_EVERY_MS = 10_000;
/** A directive that keeps failing for a reason other than Docker being unreachable is a bug: give up after this many tries. */
const MAX_FAILED_DELIVERIES = 20;
/** Lifetime of one pull request for directives (see the consume below). */
const PULL_EXPIRES_MS = 5_000;

/**
 * Creates the agent's durable pull consumer on BERTH_DIRECTIVES (filtered on its own subject) —
 * waiting until the control plane has created the stream — and executes every directive.
 *
 * A directive is acknowledged only after its work is done (containers started and observed, or
 * stopped and reported); one that fails is retried with backoff, per message (the process never
 * dies of one bad directive). Executing a directive twice changes nothing the second time.
 */
export async function consumeDirectives(
  d: {
    js: JetStreamClient;
    jsm: JetStreamManager;
    region: string;
    instanceId: string;
    runner: TaskRunner;
    /** The instance was deregistered: stop its tasks; the agent shuts down once this is acknowledged. */
    deregistered: (d: DeregisteredDirective) => Promise<void>;
    log: Logger;
    signal: AbortSignal;
  },
  ready?: () => void,
): Promise<void> {
  const { js, jsm, log, signal } = d;
  const durable = consumers.directives(d.instanceId);
  await retry(
    () =>
      jsm.consumers.add(streams.directives, {
        durable_name: durable,
        filter_subject: subjects.directives(d.region, d.instanceId),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: ACK_WAIT_MS * NS_PER_MS,
        max_deliver: -1,
      }),
    {
      signal,
      onError: (err, attempt) =>
        log.warn({ err, attempt }, "directive consumer not created yet (stream missing?); retrying"),
    },
  );
  ready?.();
  const inFlight = new Set<Promise<void>>();
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const consumer = await js.consumers.get(streams.directives, durable);
      // Short pulls: when this consumer's leader dies in a NATS cluster, the client notices the
      // lost pull after two missed idle heartbeats (`expires` / 2 each), 30 s with the default.
      const messages = await consumer.consume({ max_messages: 16, expires: PULL_EXPIRES_MS });
      const onAbort = () => void messages.close();
      signal.addEventListener("abort", onAbort, { once: true });
      // A consume stuck on a dead consumer leader is closed, and this loop consumes again.
      let received = 0;
      const unwatch = watchConsumer({ jsm, stream: streams.directives, durable, delivered: () => received, onStall: onAbort, log });
      try {
        for await (const m of messages) {
          received++;
          attempt = 0;
          const p = handle(m, d, log, signal);
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
      } finally {
        unwatch();
        signal.removeEventListener("abort", onAbort);
      }
    } catch (err) {
      if (signal.aborted) break;
      log.warn({ err }, "directive consumer broke; resuming");
    }
    try {
      await sleep(backoffMs(attempt), signal);
    } catch (err) {
      if (!(err instanceof Aborted)) throw err;
    }
  }
  await Promise.allSettled([...inFlight]);
}

async function handle(
  m: JsMsg,
  d: { runner: TaskRunner; deregistered: (d: DeregisteredDirective) => Promise<void> },
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const { runner } = d;
  let directive: Directive;
  try {
    directive = Directive.parse(m.json());
  } catch (err) {
    log.error({ err, seq: m.seq }, "undecodable directive terminated");
    m.term("undecodable");
    return;
  }
  const dlog = log.child({
    directive: directive.type,
    ...(directive.type === "Deregistered" ? {} : { taskArn: directive.taskArn }),
    seq: m.seq,
    delivery: m.info.deliveryCount,
  });
  const keepAlive = setInterval(() => m.working(), WORKING_EVERY_MS);
  try {
    dlog.debug("executing directive");
    switch (directive.type) {
      case "StartTask":
        await runner.start(directive.spec);
        break;
      case "StopTask":
        await runner.stop({
          taskArn: directive.taskArn,
          taskId: directive.taskId,
          reason: directive.reason,
          ...(directive.containers ? { containers: directive.containers } : {}),
        });
        break;
      case "Deregistered":
        await d.deregistered(directive);
        break;
      default: {
        const never: never = directive;
        throw new Error(`unknown directive ${JSON.stringify(never)}`);
      }
    }
    m.ack();
    dlog.info("directive done");
  } catch (err) {
    if (signal.aborted) return; // the agent is stopping: the directive stays unacknowledged and comes back
    if (!isDockerError(err, "retriable") && m.info.deliveryCount >= MAX_FAILED_DELIVERIES) {
      dlog.error({ err }, "directive failed too often; terminated");
      m.term("failed repeatedly");
      return;
    }
    const delay = backoffMs(m.info.deliveryCount, 30_000);
    dlog.warn({ err, retryInMs: delay }, "directive failed; will retry");
    m.nak(delay);
  } finally {
    clearInterval(keepAlive);
  }
}
