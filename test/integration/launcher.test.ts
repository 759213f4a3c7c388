import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { forgetOwnPreload, JEMALLOC_CONF, JEMALLOC_PATHS, mallocOf } from "../../services/cli/allocator.ts";
import { NODE_FLAGS } from "../../services/cli/node-flags.ts";
import { REPO_ROOT } from "../support/processes.ts";

/**
 * bin/berth, the `berth` command: Node with Berth's flags, on jemalloc when it is installed
 * (scripts/setup.sh installs it for the tests), the system's malloc when asked.
 */

const run = promisify(execFile);
const PROBE = join(REPO_ROOT, "test", "support", "print-launch.mjs");

async function launch(env: Record<string, string>) {
  const { LD_PRELOAD: _, MALLOC_CONF: __, BERTH_MALLOC: ___, BERTH_MALLOC_PRELOADED: ____, ...inherited } = process.env;
  const { stdout } = await run(join(REPO_ROOT, "bin", "berth"), ["--help"], {
    env: { ...inherited, BERTH_NODE_ARGS: `--import=${PROBE}`, ...env },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as { jemalloc: boolean; execArgv: string[]; mallocConf: string | null };
}

describe("the berth command's launcher", () => {
  test("runs Node with Berth's flags on jemalloc with one arena, or with the user's MALLOC_CONF if any", async () => {
    expect(JEMALLOC_PATHS.some((p) => existsSync(p))).toBe(true);
    const got = await launch({});
    expect(got).toMatchObject({ jemalloc: true, mallocConf: JEMALLOC_CONF });
    expect(got.execArgv).toEqual(expect.arrayContaining([...NODE_FLAGS]));
    expect(await launch({ MALLOC_CONF: "narenas:2" })).toMatchObject({ jemalloc: true, mallocConf: "narenas:2" });
    expect(await launch({ MALLOC_CONF: "" })).toMatchObject({ jemalloc: true, mallocConf: "" });
  });

  test("the system's malloc with BERTH_MALLOC=system", async () => {
    const system = await launch({ BERTH_MALLOC: "system" });
    expect(system).toMatchObject({ jemalloc: false, mallocConf: null });
    expect(system.execArgv).toEqual(expect.arrayContaining([...NODE_FLAGS]));
  });

  test("the launcher's own preload is kept from the processes Berth starts; the user's is not", () => {
    const lib = JEMALLOC_PATHS[0] as string;
    const own: NodeJS.ProcessEnv = { LD_PRELOAD: lib, BERTH_MALLOC_PRELOADED: lib, PATH: "/bin" };
    forgetOwnPreload(own);
    expect(own).toEqual({ PATH: "/bin" });
    const users: NodeJS.ProcessEnv = { LD_PRELOAD: "/opt/lib/libtrace.so" };
    forgetOwnPreload(users);
    expect(users).toEqual({ LD_PRELOAD: "/opt/lib/libtrace.so" });
  });

  test("mallocOf reads a process's allocator from its memory map", () => {
    expect(mallocOf(process.pid)).toBe(mallocOf());
    expect(mallocOf(2 ** 30)).toBe("system");
  });
});
