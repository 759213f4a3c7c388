import fc from "fast-check";
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
      `${SUBJECT}:03:0123456789abcd`, // a version written with a leading zero
      `${SUBJECT}::0123456789abcd`, // no version
      `${SUBJECT}:3a:0123456789abcd`,
      `${SUBJECT.replace("default", "defaulx")}:3:0123456789abcd`, // another subject of the same length
      "",
    ];
    for (const id of others) {
      expect(lastEventOf(SUBJECT, 3, id)).toBe(id);
      expect(eventIdOf({ subject: SUBJECT, version: 3, lastEvent: lastEventOf(SUBJECT, 3, id) })).toBe(id);
    }
  });

  test("an id is kept as a number exactly when it is the subject, the version and 14 hex digits of at most 53 bits", () => {
    const hex = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 14, maxLength: 14 }),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABx:"), minLength: 12, maxLength: 15 }),
    );
    const versions = fc.integer({ min: 1, max: 20_000 });
    fc.assert(
      fc.property(versions, fc.oneof(fc.constant(0), versions), hex, (version, other, digits) => {
        const written = other === 0 ? version : other;
        const id = `${SUBJECT}:${written}:${digits}`;
        const lastEvent = lastEventOf(SUBJECT, version, id);
        const usual = written === version && /^[0-9a-f]{14}$/.test(digits) && Number.parseInt(digits, 16) <= Number.MAX_SAFE_INTEGER;
        expect(lastEvent).toBe(usual ? Number.parseInt(digits, 16) : id);
        expect(eventIdOf({ subject: SUBJECT, version, lastEvent })).toBe(id);
      }),
    );
  });
});
