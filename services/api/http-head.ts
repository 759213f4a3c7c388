import type { IncomingHttpHeaders } from "node:http";

/**
 * Reading an HTTP/1.1 request head for the API edge's fast path (fast-http.ts): the heads it
 * serves itself, and undefined for every other, which Node's HTTP server then reads.
 */

/** What the edge reads of a request, from either reader; an IncomingMessage is one. */
export interface RequestHead {
  method?: string;
  url?: string;
  /** Lower-case names. */
  headers: IncomingHttpHeaders;
  /** Every value of each header, in order (SigV4 signs them all). */
  headersDistinct: NodeJS.Dict<string[]>;
}

/** RFC 9110 token: a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value: visible characters, spaces and tabs (obs-text too); no control characters. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CONTENT_LENGTH = /^\d{1,10}$/;

export interface FastRequest {
  /** The body's length (Content-Length). */
  length: number;
  request: RequestHead & { url: string };
}

/**
 * The request head (without its blank line) if it is one served here: `POST <origin-form> HTTP/1.1`,
 * well-formed headers each sent once, a Host, a Content-Length within `maxBody`, nothing that
 * changes how the connection or body is read. Undefined otherwise.
 */
export function readHead(text: string, maxBody: number): FastRequest | undefined {
  const lineEnd = text.indexOf("\r\n");
  const requestLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  if (!requestLine.startsWith("POST /") || !requestLine.endsWith(" HTTP/1.1")) return undefined;
  const url = requestLine.slice(5, -9);
  if (url.length === 0 || url.includes(" ")) return undefined;
  const headers: Record<string, string> = {};
  let length: number | undefined;
  for (let at = lineEnd; at >= 0; ) {
    const start = at + 2;
    const next = text.indexOf("\r\n", start);
    const line = next < 0 ? text.slice(start) : text.slice(start, next);
    at = next;
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    const value = trimOws(line, colon + 1);
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value) || Object.hasOwn(headers, name)) return undefined;
    switch (name) {
      case "content-length":
        if (!CONTENT_LENGTH.test(value)) return undefined;
        length = Number(value);
        if (length > maxBody) return undefined;
        break;
      case "connection":
        if (value.toLowerCase() !== "keep-alive") return undefined;
        break;
      case "transfer-encoding":
      case "expect":
      case "upgrade":
        return undefined;
    }
    headers[name] = value;
  }
  // Node's server refuses an HTTP/1.1 request without Host (requireHostHeader); so it does here.
  if (length === undefined || headers.host === undefined) return undefined;
  return { length, request: new FastHead(url, headers) };
}

/**
 * `line` from `from` on, without the spaces and tabs at either end. A loop, not a regex: a
 * trailing-whitespace regex backtracks over every run of spaces inside a value (a 16 kB value of
 * spaces between two letters took 190 ms).
 */
function trimOws(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}

const isOws = (c: number) => c === 0x20 || c === 0x09;

/** A request head read here: each header sent once, so its distinct values are that one value. */
class FastHead implements RequestHead {
  readonly method = "POST";
  private distinct: NodeJS.Dict<string[]> | undefined;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
  ) {}

  get headersDistinct(): NodeJS.Dict<string[]> {
    if (!this.distinct) {
      this.distinct = {};
      for (const [name, value] of Object.entries(this.headers)) this.distinct[name] = [value];
    }
    return this.distinct;
  }
}
