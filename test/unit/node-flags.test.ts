import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { JEMALLOC_CONF, JEMALLOC_PATHS } from "../../services/cli/allocator.ts";
import { NODE_FLAGS } from "../../services/cli/node-flags.ts";
import { REPO_ROOT } from "../support/processes.ts";

/**
 * Every way Berth is started runs Node with the same V8 flags (services/cli/node-flags.ts), and
 * the `berth` command's launcher (bin/berth) with the allocator services/cli/allocator.ts names.
 */

const read = (path: string) => readFileSync(`${REPO_ROOT}${path}`, "utf8");
const flags = NODE_FLAGS.join(" ");

describe("node flags", () => {
  test("the berth command's launcher, and bin/berth.mjs's first line", () => {
    const launcher = read("bin/berth");
    expect(launcher).toContain(`exec node ${flags} \${BERTH_NODE_ARGS:-} "$here/berth.mjs" "$@"`);
    for (const path of JEMALLOC_PATHS) expect(launcher).toContain(` ${path}`);
    expect(launcher).toContain(`export MALLOC_CONF="${JEMALLOC_CONF}"`);
    expect(read("bin/berth.mjs").split("\n")[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  test("npm start, npm run bench and the package's bin go through the launcher", () => {
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.start).toBe("bin/berth up");
    expect(pkg.scripts.bench).toBe("bin/berth bench");
    expect(pkg.bin).toEqual({ berth: "bin/berth" });
  });

  test("the container image's entry point is the launcher, with jemalloc installed", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toContain('ENTRYPOINT ["bin/berth"]');
    expect(dockerfile).toContain("libjemalloc2");
  });
});
