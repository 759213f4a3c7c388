import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { ApiAuth } from "../api/auth/authenticator.ts";
import { EcsError } from "../api/errors.ts";
import { type HttpRoute, regionOf, send } from "../api/server.ts";
import type { ControlPlaneParts } from "../control-plane/control-plane.ts";
import { FoldedEventStream } from "./stream.ts";

/**
 * The web console: static HTML/CSS/ES modules under /console/ (no build step, nothing fetched from
 * the network), the live stream of folded events at /berth/v1/stream, and `/` sending browsers to
 * the console. The page reads and changes everything through the ECS API itself (POST /).
 *
 *   browser ──GET /console/*──────────► static/ (read once at start)
 *           ──GET /berth/v1/stream────► FoldedEventStream ◄── onFolded (control plane)
 *           ──POST / (X-Amz-Target)───► ECS API
 */

const STATIC_DIR = fileURLToPath(new URL("./static/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** Security headers: the console loads nothing from elsewhere, so the policy can say exactly that. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file of static/ by its path under /console/; files are few and small, so they are kept in memory. */
function loadStatic(dir: string, prefix = ""): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) {
      for (const [k, v] of loadStatic(join(dir, entry.name), `${rel}/`)) files.set(k, v);
      continue;
    }
    const type = TYPES[extname(entry.name)];
    if (!type) continue;
    const body = readFileSync(join(dir, entry.name));
    files.set(rel, { body, type, etag: `"${body.length.toString(36)}-${hash(body)}"` });
  }
  return files;
}

function hash(b: Buffer): string {
  let h = 0x811c9dc5;
  for (const byte of b) h = Math.imul(h ^ byte, 0x01000193);
  return (h >>> 0).toString(36);
}

/** `/console/a/b.js?x` → `a/b.js` (`index.html` for the folder); "" for a path that is not valid percent-encoding. */
function staticPath(url: string | undefined): string {
  const raw = ((url ?? "/").split("?")[0] as string).slice("/console/".length);
  try {
    return decodeURIComponent(raw) || "index.html";
  } catch {
    return "";
  }
}

const wantsHtml = (accept: string | undefined) => (accept ?? "").includes("text/html");

/**
 * `auth`: with credentials configured, the stream is served only to a SigV4-signed request from
 * a principal allowed to ListClusters (it names every cluster's resources as they change).
 */
export function consoleRoutes(parts: ControlPlaneParts, log: Logger, auth?: ApiAuth): HttpRoute[] {
  const files = loadStatic(STATIC_DIR);
  const stream = new FoldedEventStream(parts.onFolded, () => parts.follower.seq, log);
  return [
    {
      // Browsers asking for `/` get the console; API clients keep ECS's answer for a GET.
      method: "GET",
      path: "/",
      handle: (req, res) => {
        if (wantsHtml(req.headers.accept)) {
          res.writeHead(302, { location: "/console/" });
          res.end();
          return;
        }
        send(res, randomUUID(), 404, {
          __type: "UnknownOperationException",
          message: "Only POST requests are served here.",
        });
      },
    },
    {
      method: "GET",
      path: "/console",
      handle: (_req, res) => {
        res.writeHead(301, { location: "/console/" });
        res.end();
      },
    },
    {
      method: "GET",
      path: /^\/console\/.*$/,
      handle: (req, res) => {
        const file = files.get(staticPath(req.url));
        if (!file) {
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8", ...PAGE_HEADERS });
          res.end("Not found.\n");
          return;
        }
        if (req.headers["if-none-match"] === file.etag) {
          res.writeHead(304, { etag: file.etag });
          res.end();
          return;
        }
        res.writeHead(200, {
          "content-type": file.type,
          "content-length": file.body.length,
          etag: file.etag,
          "cache-control": "no-cache",
          ...PAGE_HEADERS,
        });
        res.end(file.body);
      },
    },
    {
      method: "GET",
      path: "/berth/v1/stream",
      handle: (req, res) => {
        if (auth) {
          try {
            const identity = auth.authenticate(req, Buffer.alloc(0));
            const region = regionOf(req) ?? identity.region;
            auth.authorize(identity, "ListClusters", {}, { region, account: parts.services.account }, parts.services);
          } catch (err) {
            const e = err instanceof EcsError ? err : new EcsError("ServerException", "Internal error.", 500);
            if (!(err instanceof EcsError)) log.error({ err }, "stream authentication failed");
            send(res, randomUUID(), e.status, { __type: e.code, message: e.message, ...e.extra });
            return;
          }
        }
        stream.handle(req, res);
      },
    },
  ];
}
