import { setTimeout as delay } from "node:timers/promises";
import { type ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";

/**
 * A bounded RunTask load for fault tests: `total` calls, each with its own clientToken, issued by
 * `concurrency` clients in parallel. A call that gets a retriable answer (no HTTP answer at all,
 * a 5xx, a ThrottlingException) is retried with the SAME clientToken until it is answered 200 or
 * the deadline passes — as an ECS caller is told to do — so a retry after a crash must return the
 * task the first attempt created, never a second one.
 */
export interface LoadOptions {
  /** The client to use for each attempt (a fixture may swap endpoints). */
  ecs: () => ECSClient;
  cluster: string;
  taskDefinition: string;
  total: number;
  concurrency: number;
  /** clientToken prefix, unique per test. */
  tokenPrefix: string;
  /** The whole load ends (unanswered calls stay unanswered) after this long. */
  deadlineMs: number;
  /** Each attempt is abandoned (counted as a network failure) after this long. */
  attemptTimeoutMs?: number;
}

export type AttemptError =
  | { kind: "network"; name: string; message: string; at: number }
  | { kind: "retriable"; name: string; status: number; message: string; at: number }
  | { kind: "wrong"; name: string; status: number | undefined; message: string; at: number };

export interface LoadProgress {
  /** clientToken → the task ARN of the 200 answer (every answer for one token must agree). */
  readonly answered: ReadonlyMap<string, string>;
  /** 200 answers that named a different task than an earlier answer for the same token. */
  readonly disagreements: { token: string; first: string; later: string }[];
  /** 200 answers with failures (RESOURCE:…) instead of one task. */
  readonly failures: { token: string; failures: unknown }[];
  readonly errors: AttemptError[];
  readonly attempts: number;
  /** Resolves when every call is answered or the deadline passed. */
  readonly done: Promise<void>;
  /** Ends the load early (calls in flight finish their attempt). */
  stop(): void;
}

export function runTaskLoad(o: LoadOptions): LoadProgress {
  const answered = new Map<string, string>();
  const disagreements: LoadProgress["disagreements"] = [];
  const failures: LoadProgress["failures"] = [];
  const errors: AttemptError[] = [];
  const deadline = Date.now() + o.deadlineMs;
  let attempts = 0;
  let next = 0;
  let stopped = false;

  const call = async (token: string) => {
    for (let attempt = 0; !stopped && Date.now() < deadline; attempt++) {
      attempts++;
      try {
        const out = await o
          .ecs()
          .send(new RunTaskCommand({ cluster: o.cluster, taskDefinition: o.taskDefinition, clientToken: token }), {
            abortSignal: AbortSignal.timeout(o.attemptTimeoutMs ?? 30_000),
          });
        const arn = out.tasks?.[0]?.taskArn;
        if (!arn || (out.failures?.length ?? 0) > 0) {
          failures.push({ token, failures: out.failures });
          return;
        }
        const first = answered.get(token);
        if (first === undefined) answered.set(token, arn);
        else if (first !== arn) disagreements.push({ token, first, later: arn });
        return;
      } catch (err) {
        const e = classify(err);
        errors.push(e);
        if (e.kind === "wrong") return;
        // A short pause with jitter, so sixteen callers do not retry in lockstep.
        await delay(Math.min(1_000, 50 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random() / 2));
      }
    }
  };

  const worker = async () => {
    while (!stopped && next < o.total) {
      const token = `${o.tokenPrefix}-${next++}`;
      await call(token);
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency }, worker)).then(() => undefined);

  return {
    answered,
    disagreements,
    failures,
    errors,
    get attempts() {
      return attempts;
    },
    done,
    stop() {
      stopped = true;
    },
  };
}

/** An SDK error as the load sees it: no HTTP answer, a retriable answer, or a wrong one. */
export function classify(err: unknown): AttemptError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "Error";
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  const at = Date.now();
  if (status === undefined) return { kind: "network", name, message, at };
  if (status >= 500 || name === "ThrottlingException") return { kind: "retriable", name, status, message, at };
  return { kind: "wrong", name, status, message, at };
}
