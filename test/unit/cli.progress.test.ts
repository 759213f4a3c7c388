// Live progress and tables of the berth CLI (services/cli/progress.ts, table.ts): pure output logic.
import { describe, expect, it } from "vitest";
import { Progress, watch } from "../../services/cli/progress.ts";
import { ago, table, taskRow } from "../../services/cli/table.ts";

function stream(tty: boolean, columns = 80) {
  const out: string[] = [];
  const s = { isTTY: tty, columns, write: (text: string) => out.push(text) > 0 };
  return { s: s as unknown as NodeJS.WriteStream, out };
}

describe("Progress", () => {
  it("rewrites one status line on a terminal, with log lines above it", () => {
    const { s, out } = stream(true);
    const p = new Progress(s);
    p.status("1/3 running");
    p.status("1/3 running");
    p.log("event: started 2 tasks");
    p.status("3/3 running");
    p.done("done");
    expect(out).toEqual(["\r\x1b[2K1/3 running", "\r\x1b[2Kevent: started 2 tasks\n1/3 running", "\r\x1b[2K3/3 running", "\r\x1b[2Kdone\n"]);
  });

  it("cuts a status line to the terminal's width", () => {
    const { s, out } = stream(true, 10);
    new Progress(s).status("0123456789abcdef");
    expect(out).toEqual(["\r\x1b[2K01234567…"]);
  });

  it("prints plain lines elsewhere, a status only when it changed", () => {
    const { s, out } = stream(false);
    const p = new Progress(s);
    p.status("1/3 running");
    p.status("1/3 running");
    p.log("event");
    p.status("3/3 running");
    p.done();
    expect(out.join("")).toBe("1/3 running\nevent\n3/3 running\n");
  });

  it("watch polls until done, failed or the deadline", async () => {
    const { s } = stream(false);
    let n = 0;
    const done = await watch(new Progress(s), async () => (++n < 3 ? { status: `poll ${n}` } : { status: "ok", done: n }), { timeoutMs: 5_000, intervalMs: 1, what: "x" });
    expect(done).toEqual({ ok: true, value: 3 });
    const failed = await watch(new Progress(s), async () => ({ status: "s", failed: "broke", last: 7 }), { timeoutMs: 5_000, what: "x" });
    expect(failed).toEqual({ ok: false, reason: "broke", last: 7 });
    const late = await watch(new Progress(s), async () => ({ status: "s" }), { timeoutMs: 0, what: "the moon" });
    expect(late).toEqual({ ok: false, reason: "timed out after 0 s waiting for the moon" });
  });
});

describe("tables", () => {
  it("aligns columns with two spaces and no trailing blanks", () => {
    expect(table(["A", "LONGER", "C"], [["xyz", "1", ""], ["x", "22", "end"]])).toBe("A    LONGER  C\nxyz  1\nx    22      end");
  });

  it("shows a task as id, family:revision, last/desired, health, age, instance", () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    const row = taskRow(
      {
        taskArn: "arn:aws:ecs:us-east-1:0:task/c/abc",
        taskDefinitionArn: "arn:aws:ecs:us-east-1:0:task-definition/web:3",
        lastStatus: "RUNNING",
        desiredStatus: "STOPPED",
        startedAt: new Date("2026-01-01T00:07:30Z"),
        containerInstanceArn: "arn:aws:ecs:us-east-1:0:container-instance/c/def",
      },
      now,
    );
    expect(row).toEqual(["abc", "web:3", "RUNNING/STOPPED", "UNKNOWN", "2m ago", "def"]);
  });

  it.each([
    [undefined, "-"],
    ["2026-01-01T00:09:55Z", "5s ago"],
    [Date.parse("2026-01-01T00:00:00Z") / 1000 - 7200, "2h ago"],
    [new Date("2025-12-29T00:10:00Z"), "3d ago"],
  ])("ago(%j)", (t, text) => expect(ago(t, Date.parse("2026-01-01T00:10:00Z"))).toBe(text));
});
