import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { NODE_FLAGS } from "../../services/cli/node-flags.ts";
import { REPO_ROOT } from "../support/processes.ts";

/** Every way Berth is started runs Node with the same V8 flags (services/cli/node-flags.ts). */

const read = (path: string) => readFileSync(`${REPO_ROOT}${path}`, "utf8");
const flags = NODE_FLAGS.join(" ");

describe("node flags", () => {
  test("the berth executable's first line", () => {
    expect(read("bin/berth.mjs").split("\n")[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  test("npm start and npm run bench", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(`node ${flags} bin/berth.mjs up`);
    expect(scripts.bench).toBe(`node ${flags} bin/berth.mjs bench`);
  });

  test("the container image's entry point", () => {
    expect(read("Dockerfile")).toContain(`ENTRYPOINT ${JSON.stringify(["node", ...NODE_FLAGS, "bin/berth.mjs"]).replaceAll(",", ", ")}`);
  });
});
