import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { Observation } from "../../events/agent.ts";
import { subjects } from "../../events/names.ts";
import { observationMsgId } from "./observation.ts";
import { retry } from "./retry.ts";

/**
 * Publishes observations to BERTH_OBSERVATIONS and waits for JetStream's ack, retrying (with
 * backoff, forever) while NATS or the stream is unavailable. Resolves only once the fact is
 * stored, so callers may act on "the control plane will learn this" (e.g. remove containers).
 */
export class ObservationPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly region: string,
    private readonly instanceId: string,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {}

  async publish(o: Observation): Promise<void> {
    const msgID = observationMsgId(o);
    const subject = subjects.observations(this.region, this.instanceId);
    await retry(
      async () => {
        const ack = await this.js.publish(subject, JSON.stringify(o), { msgID, timeout: 5_000 });
        this.log.debug({ msgID, seq: ack.seq, duplicate: ack.duplicate, type: o.type }, "observation stored");
      },
      {
        signal: this.signal,
        onError: (err, attempt) => this.log.warn({ err, msgID, attempt }, "observation not stored yet; retrying"),
      },
    );
  }
}
