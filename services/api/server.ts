import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Scope } from "../../events/arns.ts";
import { LogFullError, StoreUnavailableError } from "../store/event-store.ts";
import type { ApiAuth } from "./auth/authenticator.ts";
import type { ApiServices, Handler, RequestContext } from "./context.ts";
import { EcsError } from "./errors.ts";
import { type Reply, serveFastPath } from "./fast-http.ts";
import type { RequestHead } from "./http-head.ts";
import { ECS_OPERATIONS, TARGET_PREFIX } from "./operations.ts";
import { AnswerBuffers, JsonText, RawJson } from "./raw-json.ts";

/** Request bodies past this size are refused before parsing (ECS's largest inputs are far smaller). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How long a keep-alive connection may sit idle before the edge closes it, on both readers (and
 * announced in every answer's `Keep-Alive: timeout=`). The AWS SDK for JavaScript's agent and
 * botocore keep an idle connection with no limit of their own, so a request sent just as the
 * server closes meets a reset ("socket hang up"). Node's default of 5 s lands that moment on the
 * commonest client of all, a loop that polls every 5 s; past a minute, no waiter or poll loop
 * of the SDKs, the AWS CLI or Berth's CLI is that slow. A client that honours the announcement
 * (Node's agent given a socket timeout of its own, as Berth's CLI is) closes a second before.
 */
export const IDLE_KEEP_ALIVE_MS = 65_000;

export interface HttpRoute {
  method: string;
  path: string | RegExp;
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

export interface ApiServerOptions {
  services: ApiServices;
  handlers: Record<string, Handler>;
  defaultRegion: string;
  log: Logger;
  /** Extra non-ECS routes (health, metrics, console). */
  routes?: HttpRoute[];
  /** Called for every ECS request with its action, error code (if any) and duration. */
  observe?: (action: string, code: string | undefined, ms: number) => void;
  /** SigV4 authentication and policy authorization; without it the API is open (development mode). */
  auth?: ApiAuth;
}

/**
 * The ECS API edge: awsJson1_1 on POST (any path, so an endpoint with a base path works),
 * dispatch on X-Amz-Target, region from the SigV4 credential scope, errors as
 * `{"__type": code, "message": …}` with ECS's status codes and an x-amzn-RequestId on every answer.
 * A handler failure that is not an ECS error is a 500 ServerException and is logged; the process
 * never dies of one request.
 */
export function createApiServer(opts: ApiServerOptions): Server {
  if (!opts.auth) {
    opts.log.warn(
      "open development mode: no credentials configured, so every ECS API request is accepted unsigned (set --credentials or BERTH_CREDENTIALS_FILE to require SigV4)",
    );
  }
  const server = createServer((req, res) => {
    void serveNode(opts, req, res).catch((err) => {
      opts.log.error({ err }, "request failed outside the handler");
      if (!res.headersSent) send(res, randomUUID(), 500, INTERNAL_ERROR);
    });
  });
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  serveFastPath(server, {
    maxBodyBytes: MAX_BODY_BYTES,
    keepAliveMs: IDLE_KEEP_ALIVE_MS,
    serves: (url) => routeFor(opts.routes, "POST", url) === undefined,
    serve: (head, body, reply) => {
      let replied = false;
      const once: Reply = (...args) => {
        replied = true;
        reply(...args);
      };
      // As on Node's path: what fails outside the handler (an answer that cannot be serialized)
      // is logged and answered with a 500, and the connection goes on.
      answer(opts, head, body)
        .then((a) => replyWith(once, a))
        .catch((err) => {
          opts.log.error({ err }, "request failed outside the handler");
          if (!replied) replyWith(once, { status: 500, requestId: randomUUID(), body: INTERNAL_ERROR });
        });
    },
  });
  return server;
}

const INTERNAL_ERROR = { __type: "ServerException", message: "Internal error." };

/** A request Node's HTTP server read: an extra route's, or an ECS call read here. */
async function serveNode(opts: ApiServerOptions, req: IncomingMessage, res: ServerResponse) {
  const route = routeFor(opts.routes, req.method, req.url);
  if (route) return route.handle(req, res);
  if (req.method !== "POST") {
    return send(res, randomUUID(), 404, { __type: "UnknownOperationException", message: "Only POST requests are served here." });
  }
  const a = await answer(opts, req, readBody(req));
  send(res, a.requestId, a.status, a.body);
}

/** An ECS call's answer: status, request id and body (RawJson, JsonText or an object to stringify). */
interface Answer {
  status: number;
  requestId: string;
  body: unknown;
}

/**
 * Answers one ECS call, whichever reader read it. Never rejects: every failure becomes the ECS
 * error to answer with (a non-ECS one is a logged 500 ServerException), and every call is observed.
 */
async function answer(opts: ApiServerOptions, req: RequestHead, body: Buffer | Promise<Buffer>): Promise<Answer> {
  const requestId = randomUUID();
  const started = performance.now();
  const target = header(req, "x-amz-target") ?? "";
  const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
  let code: string | undefined;
  try {
    const bytes = await body;
    // Authentication comes first: an unsigned caller learns nothing, not even which operations exist.
    const identity = opts.auth?.authenticate(req, bytes);
    const handler = opts.handlers[action];
    if (!handler) {
      if (ECS_OPERATIONS.has(action))
        throw new EcsError("UnsupportedFeatureException", `${action} is not supported by Berth.`);
      throw new EcsError("UnknownOperationException", target ? `Unknown operation ${target}.` : "Missing X-Amz-Target header.");
    }
    const input = parseJson(bytes.toString("utf8"));
    const region = identity?.region ?? regionOf(req) ?? opts.defaultRegion;
    const scope = { region, account: opts.services.account };
    if (identity) opts.auth?.authorize(identity, action, input, scope, opts.services);
    const host = header(req, "host") ?? "";
    const endpoint = HOST.test(host) ? `http://${host}/` : undefined;
    const ctx = new Context(region, scope, requestId, opts.services.clock(), opts.log, action, identity?.principal, endpoint);
    const out = await handler(input, ctx, opts.services);
    return { status: 200, requestId, body: out ?? {} };
  } catch (err) {
    const e = toEcsError(err, opts.log, action, requestId);
    code = e.code;
    return { status: e.status, requestId, body: { __type: e.code, message: e.message, ...e.extra } };
  } finally {
    opts.observe?.(action || "unknown", code, performance.now() - started);
  }
}

/** A handler's view of its request. */
class Context implements RequestContext {
  private logger: Logger | undefined;

  constructor(
    readonly region: string,
    readonly scope: Scope,
    readonly requestId: string,
    readonly now: number,
    private readonly root: Logger,
    private readonly action: string,
    readonly principal: string | undefined,
    readonly endpoint: string | undefined,
  ) {}

  /**
   * Made on first use: most requests log nothing, and a child logger is not free. (A class with
   * the getter on its prototype, not the object literal the context was — a getter, a new
   * closure per request, and two spreads: V8 kept those contexts reachable until the next full
   * collection, so each young collection under load promoted ~1 MB of them, and copying it
   * tripled the pause every in-flight request waits through.)
   */
  get log(): Logger {
    this.logger ??= this.root.child({ action: this.action, requestId: this.requestId });
    return this.logger;
  }
}

/** A Host header that names this server plainly (DiscoverPollEndpoint answers with it). */
const HOST = /^[\w.:[\]-]{1,255}$/;

/** The extra route serving this request, if any (the path is split off the query once). */
function routeFor(routes: HttpRoute[] | undefined, method: string | undefined, url: string | undefined): HttpRoute | undefined {
  if (!routes?.length) return undefined;
  const path = (url ?? "/").split("?")[0] as string;
  return routes.find((r) => r.method === method && (typeof r.path === "string" ? r.path === path : r.path.test(path)));
}

function toEcsError(err: unknown, log: Logger, action: string, requestId: string): EcsError {
  if (err instanceof EcsError) return err;
  if (err instanceof LogFullError) {
    log.error({ err, action, requestId }, "event log full");
    return new EcsError(
      "ServerException",
      "The event log is full: JetStream's storage limit is reached, so no change can be recorded. Reads still work. Free or add JetStream storage, then retry the request.",
      500,
    );
  }
  if (err instanceof StoreUnavailableError) {
    log.warn({ err, action, requestId }, "event log unavailable");
    return new EcsError("ServerException", "The event log is unavailable. Retry the request.", 500);
  }
  log.error({ err, action, requestId }, "handler failed");
  return new EcsError("ServerException", "Internal error.", 500);
}

/** ECS's deepest request shapes nest about 8 levels; deeper input is refused before recursive code sees it. */
export const MAX_JSON_DEPTH = 32;

/** Deepest array/object nesting of a JSON text, by one scan (no recursion, strings skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Whether a JSON text opens more than `limit` arrays and objects, counting brackets inside strings
 * too: an upper bound on its depth, found with indexOf (far quicker than the character scan of
 * jsonDepth on a 10 kB list of ARNs).
 */
function opensMoreThan(text: string, limit: number): boolean {
  let n = 0;
  for (const bracket of ["[", "{"]) {
    for (let i = text.indexOf(bracket); i >= 0; i = text.indexOf(bracket, i + 1)) if (++n > limit) return true;
  }
  return false;
}

function parseJson(body: string): Record<string, unknown> {
  if (body.trim() === "") return {};
  if (opensMoreThan(body, MAX_JSON_DEPTH) && jsonDepth(body) > MAX_JSON_DEPTH)
    throw new EcsError("SerializationException", `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new EcsError("SerializationException", "The request body is not valid JSON.");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new EcsError("SerializationException", "The request body must be a JSON object.");
  return v as Record<string, unknown>;
}

/** Reads a request body, refusing (413, ECS-shaped) one larger than `limit` bytes. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new EcsError("ClientException", `The request body exceeds ${limit} bytes.`, 413));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** `Credential=AKID/20240101/<region>/ecs/aws4_request` → region. */
export function regionOf(req: RequestHead): string | undefined {
  const auth = header(req, "authorization");
  const m = auth ? /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]{1,32})\/[^/,\s]+\/aws4_request/.exec(auth) : null;
  return m?.[1];
}

const header = (req: RequestHead, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const answerBuffers = new AnswerBuffers();

export function send(res: ServerResponse, requestId: string, status: number, body: unknown) {
  const out = outgoing(body);
  writeHead(res, requestId, status, out.length);
  // 'finish': the socket has taken every byte (a pooled buffer may then serve another answer).
  res.end(out.data, out.encoding, out.written);
}

/** The same answer as send(), through the fast path's writer. */
function replyWith(reply: Reply, a: Answer) {
  const out = outgoing(a.body);
  reply(a.status, headerLines(a.requestId, out.length), out.data, out.written, out.encoding);
}

/**
 * An answer's body as it goes out, by either writer: RawJson joined into a pooled buffer, given
 * back once written; anything else as JSON text, written as latin1 when it has as many bytes as
 * characters (ASCII: the same bytes, copied instead of UTF-8 encoded).
 */
function outgoing(body: unknown): {
  data: Buffer | string;
  length: number;
  encoding: "utf8" | "latin1";
  written?: () => void;
} {
  if (body instanceof RawJson) {
    const bytes = body.joinInto(answerBuffers);
    return { data: bytes, length: bytes.length, encoding: "utf8", written: () => answerBuffers.release(bytes) };
  }
  const text = body instanceof JsonText ? body.text : JSON.stringify(body);
  const length = Buffer.byteLength(text);
  return { data: text, length, encoding: length === text.length ? "latin1" : "utf8" };
}

const CONTENT_TYPE = "application/x-amz-json-1.1";

function writeHead(res: ServerResponse, requestId: string, status: number, length: number) {
  res.writeHead(status, {
    "content-type": CONTENT_TYPE,
    "x-amzn-requestid": requestId,
    "content-length": length,
  });
}

/** writeHead's headers as the fast path writes them, in the same order and case. */
const headerLines = (requestId: string, length: number) =>
  `content-type: ${CONTENT_TYPE}\r\nx-amzn-requestid: ${requestId}\r\ncontent-length: ${length}\r\n`;

