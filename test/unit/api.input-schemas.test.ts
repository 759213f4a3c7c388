// Every API input schema is a module constant. zod compiles a schema object on its first use, so a
// schema built inside a handler is compiled again on every request, which cost more than the work.
// The check: the first argument of every parseInput( call under services/api/ is a plain name.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const API = fileURLToPath(new URL("../../services/api/", import.meta.url));

const sources = (readdirSync(API, { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, text: readFileSync(`${API}${f}`, "utf8") }));

describe("API input schemas", () => {
  it("are passed to parseInput by name, never built in place", () => {
    const calls = sources.flatMap(({ file, text }) =>
      [...text.matchAll(/\bparseInput\(([^,]*),/g)].map((m) => ({
        at: `${file}:${text.slice(0, m.index).split("\n").length}`,
        schema: m[1]!.trim(),
      })),
    );
    expect(calls.length).toBeGreaterThan(0);
    const builtInPlace = calls.filter((c) => !/^[A-Za-z_$][\w$]*$/.test(c.schema)).map((c) => c.at);
    expect(builtInPlace).toEqual([]);
  });
});
