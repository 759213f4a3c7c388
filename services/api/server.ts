import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { LogFullError, StoreUnavailableError } from "../store/event-store.ts";
import type { ApiAuth } from "./auth/authenticator.ts";
import type { ApiServices, Handler, RequestContext } from "./context.ts";
import { EcsError } from "./errors.ts";
import { ECS_OPERATIONS, TARGET_PREFIX } from "./operations.ts";
import { AnswerBuffers, JsonText, RawJson } from "./raw-json.ts";

/** Request bodies past this size are refused before parsing (ECS's largest inputs are far smaller). */
export const MAX_BODY_BYTES = 1024 * 1024;

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
  return createServer((req, res) => {
    void serve(opts, req, res).catch((err) => {
      opts.log.error({ err }, "request failed outside the handler");
      if (!res.headersSent) send(res, randomUUID(), 500, { __type: "ServerException", message: "Internal error." });
    });
  });
}

async function serve(opts: ApiServerOptions, req: IncomingMessage, res: ServerResponse) {
  const route = routeFor(opts.routes, req);
  if (route) return route.handle(req, res);
  const requestId = randomUUID();
  if (req.method !== "POST") {
    return send(res, requestId, 404, { __type: "UnknownOperationException", message: "Only POST requests are served here." });
  }
  const started = performance.now();
  const target = header(req, "x-amz-target") ?? "";
  const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
  let code: string | undefined;
  try {
    const body = await readBody(req);
    // Authentication comes first: an unsigned caller learns nothing, not even which operations exist.
    const identity = opts.auth?.authenticate(req, body);
    const handler = opts.handlers[action];
    if (!handler) {
      if (ECS_OPERATIONS.has(action))
        throw new EcsError("UnsupportedFeatureException", `${action} is not supported by Berth.`);
      throw new EcsError("UnknownOperationException", target ? `Unknown operation ${target}.` : "Missing X-Amz-Target header.");
    }
    const input = parseJson(body.toString("utf8"));
    const region = identity?.region ?? regionOf(req) ?? opts.defaultRegion;
    const scope = { region, account: opts.services.account };
    if (identity) opts.auth?.authorize(identity, action, input, scope, opts.services);
    let log: Logger | undefined;
    const ctx: RequestContext = {
      region,
      scope,
      requestId,
      now: opts.services.clock(),
      // Made on first use: most requests log nothing, and a child logger is not free.
      get log() {
        log ??= opts.log.child({ action, requestId });
        return log;
      },
      ...(identity ? { principal: identity.principal } : {}),
      ...(/^[\w.:[\]-]{1,255}$/.test(req.headers.host ?? "") ? { endpoint: `http://${req.headers.host}/` } : {}),
    };
    const out = await handler(input, ctx, opts.services);
    send(res, requestId, 200, out ?? {});
  } catch (err) {
    const e = toEcsError(err, opts.log, action, requestId);
    code = e.code;
    send(res, requestId, e.status, { __type: e.code, message: e.message, ...e.extra });
  } finally {
    opts.observe?.(action || "unknown", code, performance.now() - started);
  }
}

/** The extra route serving this request, if any (the path is split off the query once). */
function routeFor(routes: HttpRoute[] | undefined, req: IncomingMessage): HttpRoute | undefined {
  if (!routes?.length) return undefined;
  const path = pathOf(req);
  return routes.find((r) => r.method === req.method && (typeof r.path === "string" ? r.path === path : r.path.test(path)));
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
export function regionOf(req: IncomingMessage): string | undefined {
  const auth = header(req, "authorization");
  const m = auth ? /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]{1,32})\/[^/,\s]+\/aws4_request/.exec(auth) : null;
  return m?.[1];
}

const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?")[0] as string;

const answerBuffers = new AnswerBuffers();

export function send(res: ServerResponse, requestId: string, status: number, body: unknown) {
  if (body instanceof RawJson) {
    writeHead(res, requestId, status, body.length);
    const bytes = body.joinInto(answerBuffers);
    // 'finish': the socket has taken every byte, so the buffer may serve another answer.
    res.end(bytes, () => answerBuffers.release(bytes));
    return;
  }
  const text = body instanceof JsonText ? body.text : JSON.stringify(body);
  writeHead(res, requestId, status, Buffer.byteLength(text));
  res.end(text);
}

function writeHead(res: ServerResponse, requestId: string, status: number, length: number) {
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-requestid": requestId,
    "content-length": length,
  });
}
