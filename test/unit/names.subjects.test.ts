import { describe, expect, test } from "vitest";
import { parseEventSubject, subjects } from "../../events/names.ts";

describe("parseEventSubject", () => {
  test.each([
    [subjects.task("us-east-1", "default", "0123abcd"), { region: "us-east-1", kind: "task", ids: ["default", "0123abcd"] }],
    [subjects.cluster("eu-west-1", "prod"), { region: "eu-west-1", kind: "cluster", ids: ["prod"] }],
    [subjects.account("us-east-1"), { region: "us-east-1", kind: "account", ids: ["settings"] }],
    ["berth.evt.r.task.", { region: "r", kind: "task", ids: [""] }],
  ])("%s", (subject, parts) => {
    expect(parseEventSubject(subject)).toEqual(parts);
  });

  test.each(["berth.evt.us-east-1.task", "berth.evt.us-east-1", "berth.obs.us-east-1.i-1.x", "berth.evtx.r.task.a", "other"])(
    "%s is no event subject",
    (subject) => {
      expect(parseEventSubject(subject)).toBeNull();
    },
  );
});
