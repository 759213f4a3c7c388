import { describe, expect, test } from "vitest";
import { type AckSequences, parseAck } from "../../services/store/ack-subject.ts";

const read = (reply: string): AckSequences | undefined => {
  const into = { stream: -1, delivery: -1 };
  return parseAck(reply, into) ? into : undefined;
};

describe("parseAck reads the stream and delivery sequences of an ack subject", () => {
  test.each([
    ["$JS.ACK.BERTH_EVENTS.abcd1234.1.9042.17.1732179393123456789.12", { stream: 9042, delivery: 17 }],
    ["$JS.ACK.hub.ACCHASH.BERTH_EVENTS.abcd1234.1.9042.17.1732179393123456789.12", { stream: 9042, delivery: 17 }],
    ["$JS.ACK._.ACCHASH.BERTH_EVENTS.abcd1234.2.5.5.1732179393123456789.0.Xy3", { stream: 5, delivery: 5 }],
  ])("%s", (reply, seqs) => {
    expect(read(reply)).toEqual(seqs);
  });

  test.each([
    "",
    "$JS.FC.BERTH_EVENTS.abcd.1",
    "_INBOX.abc.def",
    "$JS.ACK.BERTH_EVENTS.abcd1234.1.9042.17.1732179393123456789",
    "$JS.ACK.BERTH_EVENTS.abcd1234.1.90x2.17.1732179393123456789.12",
    "$JS.ACK.BERTH_EVENTS.abcd1234.1..17.1732179393123456789.12",
    "$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m.n",
  ])("%s is none", (reply) => {
    expect(read(reply)).toBeUndefined();
  });
});
