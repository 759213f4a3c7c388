import { expect, test } from "vitest";
import { brief } from "../../services/cli/commands/wait.ts";

test("a service event naming many tasks shows the first three and counts the rest; a short one is left whole", () => {
  const ids = Array.from({ length: 500 }, (_, i) => `(task ${i.toString(16).padStart(32, "0")})`);
  const many = `(service web) has started 500 tasks: ${ids.join(" ")}.`;
  expect(brief(many)).toBe(`(service web) has started 500 tasks: ${ids.slice(0, 3).join(" ")} … and 497 more.`);
  const few = "(service web) has stopped 2 running tasks: (task a) (task b).";
  expect(brief(few)).toBe(few);
  expect(brief("(service web) has reached a steady state.")).toBe("(service web) has reached a steady state.");
});
