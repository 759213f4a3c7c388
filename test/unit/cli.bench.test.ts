import { describe, expect, test } from "vitest";
import { reportPath } from "../../services/cli/commands/bench.ts";

describe("berth bench's report", () => {
  test("only a full run of every benchmark writes the report the README quotes, unless --out says where", () => {
    expect(reportPath({})).toBe("bench/REPORT.md");
    expect(reportPath({ quick: true })).toBe("bench/REPORT-partial.md");
    expect(reportPath({ only: "api" })).toBe("bench/REPORT-partial.md");
    expect(reportPath({ only: "placement,replay,api,docker" })).toBe("bench/REPORT-partial.md");
    expect(reportPath({ quick: true, out: "/tmp/r.md" })).toBe("/tmp/r.md");
    expect(reportPath({ out: "x.md" })).toBe("x.md");
  });
});
