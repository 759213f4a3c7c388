// Dependencies point inward only: events/ ← machines/ ← services/. This test is the check.
//
//   events/    may import: zod, and relative paths inside events/
//   machines/  may import: xstate, zod, and relative paths inside events/ or machines/
//   services/  may be imported only from services/, test/ and bin/
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;
const SKIP_DIRS = new Set(["node_modules", ".git", "dist", ".berth", "test-artifacts", "vendor"]);

/** Files under `dir` (relative to the root, with forward slashes), skipping generated trees. */
function sourceFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...sourceFiles(rel));
    } else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      out.push(rel);
    }
  }
  return out;
}

// Every string literal and comment, in source order. Strings are matched first, so comment markers
// inside a string ("nats://…") do not start a comment, and quotes inside a comment do not start a
// string.
const STRINGS_OR_COMMENTS = /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\/[^\n]*|\/\*[\s\S]*?\*\//g;

// Over the masked code (comments blanked, each string replaced by "<its index>"):
// import x from "m"; import type { A } from "m"; import * as m from "m"; export { a } from "m";
// export * from "m"; export type { A } from "m" — over several lines too.
const FROM = /\b(?:import|export)\s[^;"]*?\bfrom\s*"(\d+)"/g;
// import "m" (side effects only)
const BARE = /\bimport\s*"(\d+)"/g;
// import("m"), require("m")
const CALL = /\b(?:import|require)\s*\(\s*"(\d+)"\s*\)/g;

/** Every module specifier imported or re-exported by `source`. */
function importsOf(source: string): string[] {
  const strings: string[] = [];
  const masked = source.replace(STRINGS_OR_COMMENTS, (_match, str: string | undefined) => {
    if (str === undefined) return " ";
    strings.push(str.slice(1, -1));
    return `"${strings.length - 1}"`;
  });
  const found: { at: number; specifier: string }[] = [];
  for (const pattern of [FROM, BARE, CALL]) {
    for (const m of masked.matchAll(pattern)) found.push({ at: m.index, specifier: strings[Number(m[1])]! });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.specifier);
}

/** Where a relative specifier points, relative to the root ("events/x.ts"); undefined for packages. */
function target(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return posix.normalize(posix.join(posix.dirname(file), specifier));
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
const isPackage = (specifier: string, name: string) => specifier === name || specifier.startsWith(`${name}/`);

/** The rule broken by `file` importing `specifier`, or undefined when the import is allowed. */
function violation(file: string, specifier: string): string | undefined {
  const to = target(file, specifier);
  if (inside(file, "events")) {
    const ok = isPackage(specifier, "zod") || (to !== undefined && inside(to, "events"));
    if (!ok) return "events/ imports only zod and events/";
  }
  if (inside(file, "machines")) {
    const ok =
      isPackage(specifier, "xstate") ||
      isPackage(specifier, "zod") ||
      (to !== undefined && (inside(to, "events") || inside(to, "machines")));
    if (!ok) return "machines/ imports only xstate, zod, events/ and machines/";
  }
  if (to !== undefined && inside(to, "services") && !["services", "test", "bin"].some((d) => inside(file, d))) {
    return "only services/, test/ and bin/ import services/";
  }
  return undefined;
}

/** All violations in one file's source. */
function violationsIn(file: string, source: string): string[] {
  return importsOf(source).flatMap((specifier) => {
    const rule = violation(file, specifier);
    return rule === undefined ? [] : [`${file}: "${specifier}" — ${rule}`];
  });
}

describe("the import checker", () => {
  it("finds every import form", () => {
    const source = [
      'import { z } from "zod";',
      'import type { Snapshot } from "xstate";',
      "import {",
      "  a,",
      "  type B,",
      '} from "./multi-line.ts";',
      'import * as ns from "./ns.ts";',
      'import def, { named } from "./both.ts";',
      'import "./side-effect.ts";',
      'export * from "./star.ts";',
      'export { x as y } from "./named.ts";',
      'export type { T } from "./types.ts";',
      'const lazy = await import("./lazy.ts");',
      "// import { old } from './commented.ts';",
      "/* import { older } from './block-commented.ts'; */",
      'const url = "nats://host:4222"; import { after } from "./after-string.ts";',
      "const text = \"import { fake } from './in-a-string.ts'\";",
    ].join("\n");
    expect(importsOf(source).sort()).toEqual(
      [
        "zod",
        "xstate",
        "./multi-line.ts",
        "./ns.ts",
        "./both.ts",
        "./side-effect.ts",
        "./star.ts",
        "./named.ts",
        "./types.ts",
        "./lazy.ts",
        "./after-string.ts",
      ].sort(),
    );
  });

  it.each([
    ["events/task.events.ts", 'import { x } from "../services/api/server.ts";'],
    ["events/task.events.ts", 'import type { Machine } from "../machines/task/task.machine.ts";'],
    ["events/task.events.ts", 'import { randomUUID } from "node:crypto";'],
    ["events/task.events.ts", 'export * from "../machines/decider.ts";'],
    ["machines/task/task.decide.ts", 'import pino from "pino";'],
    ["machines/task/task.decide.ts", 'import { connect } from "@nats-io/transport-node";'],
    ["machines/task/task.decide.ts", 'import type { Store } from "../../services/store/event-store.ts";'],
    ["machines/task/task.decide.ts", 'const m = await import("../../services/agent/agent.ts");'],
    ["scripts/tool.ts", 'import { run } from "../services/cli/main.ts";'],
    ["vitest.config.ts", 'export { x } from "./services/api/server.ts";'],
  ])("flags %s importing: %s", (file, source) => {
    expect(violationsIn(file, source)).toHaveLength(1);
  });

  it.each([
    ["events/task.events.ts", 'import { z } from "zod";'],
    ["events/task.events.ts", 'import { arn } from "./arns.ts";'],
    ["machines/task/task.decide.ts", 'import { setup } from "xstate";'],
    ["machines/task/task.decide.ts", 'import type { TaskEvent } from "../../events/task.events.ts";'],
    ["machines/task/task.decide.ts", 'import { decider } from "../decider.ts";'],
    ["services/api/server.ts", 'import { ensureStreams } from "../store/topology.ts";'],
    ["test/unit/x.test.ts", 'import { startApi } from "../../services/api/server.ts";'],
    ["bin/berth.mjs", 'await import("../services/cli/main.ts");'],
  ])("allows %s importing: %s", (file, source) => {
    expect(violationsIn(file, source)).toEqual([]);
  });
});

describe("dependency direction", () => {
  const files = sourceFiles();

  it("scans the layers", () => {
    expect(files.some((f) => inside(f, "events"))).toBe(true);
    expect(files.some((f) => inside(f, "machines"))).toBe(true);
    expect(files.some((f) => inside(f, "services"))).toBe(true);
    // A checker whose patterns stopped matching would pass vacuously.
    const eventImports = files
      .filter((f) => inside(f, "events"))
      .flatMap((f) => importsOf(readFileSync(join(ROOT, f), "utf8")));
    expect(eventImports).toContain("zod");
  });

  it("events/ ← machines/ ← services/, and nothing else imports services/", () => {
    const problems = files.flatMap((file) => violationsIn(file, readFileSync(join(ROOT, file), "utf8")));
    expect(problems).toEqual([]);
  });
});
