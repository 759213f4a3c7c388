import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { subjects } from "../../events/names.ts";
import { Interner } from "../../services/control-plane/intern.ts";
import { SubjectParts } from "../../services/control-plane/read-model.ts";

const clusterSubject = (region: string, cluster: string) => subjects.cluster(region, cluster);
const partsOf = (p: SubjectParts) => ({ region: p.region, kind: p.kind, clusterSubject: p.clusterSubject });

/** Subjects from few tokens, so that consecutive ones often share all but their last token. */
const subject = fc
  .tuple(
    fc.constantFrom("berth.evt.", "berth.evt.", "berth.evt.", "berth.ctl."),
    fc.constantFrom("r1", "r2"),
    fc.constantFrom("task", "task", "service", "cluster", "account"),
    fc.array(fc.constantFrom("a", "ab", "b"), { maxLength: 3 }),
  )
  .map(([prefix, region, kind, ids]) => [`${prefix}${region}.${kind}`, ...ids].join("."));

describe("the read model's reading of event subjects", () => {
  test("gives every subject of a sequence the parts a fresh reading of it gives, whatever came before", () => {
    fc.assert(
      fc.property(fc.array(subject, { minLength: 1, maxLength: 40 }), (list) => {
        const interner = new Interner();
        const kept = new SubjectParts(interner, clusterSubject);
        for (const s of list) {
          const fresh = new SubjectParts(interner, clusterSubject);
          const ok = fresh.read(s);
          expect(kept.read(s)).toBe(ok);
          if (ok) expect(partsOf(kept)).toEqual(partsOf(fresh));
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("a task's subject gives its region, kind and its cluster's subject", () => {
    const p = new SubjectParts(new Interner(), clusterSubject);
    for (const id of ["t1", "t2"]) {
      expect(p.read(subjects.task("us-east-1", "web", id))).toBe(true);
      expect(partsOf(p)).toEqual({ region: "us-east-1", kind: "task", clusterSubject: subjects.cluster("us-east-1", "web") });
    }
    expect(p.read(subjects.task("us-east-1", "db", "t3"))).toBe(true);
    expect(p.clusterSubject).toBe(subjects.cluster("us-east-1", "db"));
    expect(p.read("berth.ctl.us-east-1.register")).toBe(false);
  });
});
