import { describe, expect, test } from "vitest";
import { contentHash, envelope } from "../../events/envelope.ts";
import { eventIdOf, lastEventOf } from "../../services/control-plane/read-model.ts";

const SUBJECT = "berth.evt.us-east-1.task.default.0123456789abcdef0123456789abcdef";

describe("an aggregate's last event id", () => {
  test("an envelope's id is kept as a number and given back unchanged", () => {
    for (const [version, text] of [
      [1, "a"],
      [7, "b"],
      [1234, JSON.stringify({ type: "TaskStarted", at: 1 })],
    ] as const) {
      const id = envelope(SUBJECT, "task/x", version, { type: "TaskStarted", at: version }, { source: "t" }).id;
      const lastEvent = lastEventOf(SUBJECT, version, id);
      expect(typeof lastEvent).toBe("number");
      expect(eventIdOf({ subject: SUBJECT, version, lastEvent })).toBe(id);
      const small = `${SUBJECT}:${version}:${contentHash(text)}`;
      expect(eventIdOf({ subject: SUBJECT, version, lastEvent: lastEventOf(SUBJECT, version, small) })).toBe(small);
    }
  });

  test("hashes with leading zeros keep their digits", () => {
    const id = `${SUBJECT}:3:000000000000ff`;
    expect(lastEventOf(SUBJECT, 3, id)).toBe(255);
    expect(eventIdOf({ subject: SUBJECT, version: 3, lastEvent: 255 })).toBe(id);
  });

  test("any other id is kept as it is", () => {
    const others = [
      "some-other-id",
      `${SUBJECT}:4:0123456789abcd`, // another version than the aggregate's
      `${SUBJECT}x:3:0123456789abcd`, // another subject
      `${SUBJECT}:3:0123456789ABCD`, // not lower-case hex
      `${SUBJECT}:3:0123456789abc`, // 13 digits
      `${SUBJECT}:3:ffffffffffffff`, // more than 53 bits: not exact as a number
      `${SUBJECT}:3`,
      "",
    ];
    for (const id of others) {
      expect(lastEventOf(SUBJECT, 3, id)).toBe(id);
      expect(eventIdOf({ subject: SUBJECT, version: 3, lastEvent: lastEventOf(SUBJECT, 3, id) })).toBe(id);
    }
  });
});
