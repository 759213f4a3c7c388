import type { Logger } from "pino";
import type { Scope } from "../../events/arns.ts";
import { rootArn } from "../../machines/account/account.settings.ts";
import type { CommandBus } from "../control-plane/commands.ts";
import type { KeyedQueue } from "../control-plane/keyed-queue.ts";
import type { ReadModel } from "../control-plane/read-model.ts";

/** What handlers may use. Clock and ids are injected so tests can pin them. */
export interface ApiServices {
  model: ReadModel;
  bus: CommandBus;
  clock: () => number;
  ids: Ids;
  account: string;
  log: Logger;
  /** Serialises placement per cluster inside this process. */
  placementLock: KeyedQueue;
  /** Told about every placement batch (metrics): tasks placed, failure reasons, time taken. */
  onPlacement?: (outcome: { launchType: string; placed: number; failures: string[]; ms: number }) => void;
}

export interface Ids {
  /** 32 lowercase hex characters, as ECS task and container-instance ids. */
  hex32(): string;
  uuid(): string;
}

export interface RequestContext {
  region: string;
  scope: Scope;
  requestId: string;
  /** Request time, epoch ms; one value for the whole request. */
  now: number;
  log: Logger;
  /** ARN of the caller's access key (credentials configured); absent in open development mode. */
  principal?: string;
  /** The base URL this request reached (`http://host:port/`): Berth's own endpoint, for DiscoverPollEndpoint. */
  endpoint?: string;
}

/**
 * The caller as ECS records it on what it makes (a task definition's registeredBy, a service's
 * createdBy): its principal, or in open development mode, where a request names no one, the
 * account's root user, as account settings take it.
 */
export const callerArn = (ctx: RequestContext): string => ctx.principal ?? rootArn(ctx.scope.account);

export type Handler = (input: Record<string, unknown>, ctx: RequestContext, s: ApiServices) => Promise<unknown>;
