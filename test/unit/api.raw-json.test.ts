import { describe, expect, test } from "vitest";
import { AnswerBuffers, RawJson } from "../../services/api/raw-json.ts";

describe("RawJson answers joined into pooled buffers", () => {
  test("the pieces are joined in order into a buffer of exactly their length", () => {
    const raw = new RawJson([
      Buffer.from('{"tasks":['),
      Buffer.from('{"a":1}'),
      Buffer.from(","),
      Buffer.from('{"b":2}]}'),
    ]);
    const bytes = raw.joinInto(new AnswerBuffers(64, 2));
    expect(bytes.length).toBe(raw.length);
    expect(JSON.parse(bytes.toString("utf8"))).toEqual({ tasks: [{ a: 1 }, { b: 2 }] });
  });

  test("a buffer is lent again only once released; a long answer gets one of its own, never kept", () => {
    const pool = new AnswerBuffers(16, 1);
    const a = new RawJson([Buffer.from("0123456789")]).joinInto(pool);
    const b = new RawJson([Buffer.from("abcdef")]).joinInto(pool);
    // Both in flight: distinct memory.
    expect(a.buffer).not.toBe(b.buffer);
    pool.release(a);
    const c = new RawJson([Buffer.from("xyz")]).joinInto(pool);
    expect(c.buffer).toBe(a.buffer);
    expect(c.toString()).toBe("xyz");
    pool.release(b);
    pool.release(c); // one is kept at most
    const long = new RawJson([Buffer.alloc(40, 1)]).joinInto(pool);
    expect(long.length).toBe(40);
    pool.release(long);
    const d = pool.take(8);
    const e = pool.take(8);
    expect(d.buffer.byteLength).toBe(16);
    expect(e.buffer).not.toBe(d.buffer);
    expect([b.buffer, c.buffer]).toContain(d.buffer);
  });
});
