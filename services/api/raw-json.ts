/**
 * A response body that is already JSON, as UTF-8 bytes in pieces. For answers assembled from
 * cached pieces (DescribeTasks sends each task's cached rendering), where parsing and
 * stringifying again would cost more than building the answer.
 */
export class RawJson {
  /** Total bytes of `parts` (the Content-Length). */
  readonly length: number;

  constructor(readonly parts: readonly Buffer[]) {
    let length = 0;
    for (const p of parts) length += p.length;
    this.length = length;
  }

  /**
   * The pieces copied into one buffer of `pool`; give it back with `pool.release` once the socket
   * has taken the bytes. One write of one buffer costs the edge far less than a write per piece
   * (a 100-task answer is 200 pieces), and a pooled buffer leaves no 130 kB garbage per answer.
   */
  joinInto(pool: AnswerBuffers): Buffer {
    const out = pool.take(this.length);
    let at = 0;
    for (const p of this.parts) at += p.copy(out, at);
    return out.subarray(0, at);
  }
}

/**
 * Reusable buffers for joined answers. A buffer is lent by `take` and comes back by `release`
 * only when its write has finished; one whose write failed is never released and is left to the
 * garbage collector. At most `keep` buffers are held, each of `size` bytes; a longer answer gets a
 * buffer of its own that is not kept.
 */
export class AnswerBuffers {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly size = 256 * 1024,
    private readonly keep = 32,
  ) {}

  take(length: number): Buffer {
    if (length > this.size) return Buffer.allocUnsafeSlow(length);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  release(buffer: Buffer): void {
    if (buffer.buffer.byteLength === this.size && this.free.length < this.keep)
      this.free.push(Buffer.from(buffer.buffer, 0, this.size));
  }
}

/**
 * A value already serialized as JSON text: a response body sent as it is, or a member spliced
 * into a larger text (an ECS event's detail), with no JSON.stringify. JSON.stringify, given one,
 * reads it back (toJSON), so either way writes the same JSON.
 */
export class JsonText {
  /** Any member: a JsonText stands where an object of JSON members is expected. */
  [member: string]: unknown;
  constructor(readonly text: string) {}
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * `prefix` and each of `values` as a JSON array of strings. When the caller knows that neither
 * the prefix nor any value holds a character JSON escapes (`plain`), they are joined between
 * quotes: a third of JSON.stringify's cost, which looks at every character of 100 ARNs (~8 kB)
 * to find none. Otherwise JSON.stringify.
 */
export function jsonStrings(values: readonly string[], plain: boolean, prefix = ""): string {
  if (!plain) return JSON.stringify(prefix === "" ? values : values.map((v) => prefix + v));
  return values.length === 0 ? "[]" : `["${prefix}${values.join(`","${prefix}`)}"]`;
}
