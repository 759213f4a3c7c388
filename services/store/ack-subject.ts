/** Stream and delivery sequences of a JetStream message, as parseAck() reads them from its ack subject. */
export interface AckSequences {
  stream: number;
  delivery: number;
}

const ACK_PREFIX = "$JS.ACK.";
/** Positions of the dots after ACK_PREFIX in the subject being parsed (one message at a time). */
const dots = new Int32Array(12);

/**
 * Reads the stream and delivery sequences from an ack subject into `into`, without splitting it
 * (no array, no strings, no object per message); false when it is no ack subject:
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<streamSeq>.<deliverySeq>.<timestamp>.<pending>
 *   $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<streamSeq>.<deliverySeq>.<timestamp>.<pending>[.<token>]
 * (the second form, of newer servers, has nine or more tokens after the prefix).
 */
export function parseAck(reply: string, into: AckSequences): boolean {
  if (!reply.startsWith(ACK_PREFIX)) return false;
  let n = 0;
  for (let at = reply.indexOf(".", ACK_PREFIX.length); at >= 0; at = reply.indexOf(".", at + 1)) {
    if (n === dots.length) return false;
    dots[n++] = at;
  }
  const tokens = n + 1;
  // Index (after the prefix) of the stream sequence's token; the delivery sequence's is the next.
  const t = tokens === 7 ? 3 : tokens >= 9 ? 5 : -1;
  if (t < 0) return false;
  const stream = digits(reply, (dots[t - 1] as number) + 1, dots[t] as number);
  const delivery = digits(reply, (dots[t] as number) + 1, dots[t + 1] as number);
  if (stream < 0 || delivery < 0) return false;
  into.stream = stream;
  into.delivery = delivery;
  return true;
}

/** The decimal number in s[from, to); -1 when it is empty or not all digits. */
function digits(s: string, from: number, to: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
