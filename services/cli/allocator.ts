import { readFileSync } from "node:fs";

/**
 * The C allocator Berth's processes run with. The `berth` command (bin/berth) starts Node with
 * jemalloc preloaded when it is installed (Debian and Ubuntu: libjemalloc2; scripts/setup.sh and
 * the image install it), unless BERTH_MALLOC=system or LD_PRELOAD is already set; a unit test
 * holds bin/berth to the paths below.
 *
 * Why: glibc's malloc keeps what a burst freed inside its arenas and returns only the top of each.
 * A control plane that has just placed 100,000 tasks held ~92 MB there once settled, most of it
 * free (Node's socket reads, V8's remembered sets and compiler zones come and go by the
 * thousand); glibc's arena and trim settings did not change that. jemalloc, with its own
 * settings (unused pages given back after about 10 s), holds about 30 MB there. Measured, 100,000
 * tasks on 10,000 instances, half in services: resident once settled 343–346 MB with glibc,
 * 308–324 MB with jemalloc; 3 s after the load 713–858 MB against 541–831 MB; control-plane CPU
 * per task in alternating runs 0.382–0.545 ms against 0.394–0.525 ms, no difference the runs
 * could tell. Giving pages back after 1 s from a thread of its own
 * (`background_thread:true,dirty_decay_ms:1000`) settled at 291–305 MB but cost the control plane
 * 12–14 % more CPU per task in both of its runs: not the default. docs/performance.md has the runs.
 *
 * With one arena (JEMALLOC_CONF) instead of jemalloc's default of four per core: a process with a
 * handful of threads (the event loop, libuv's pool, V8's helpers) gains nothing from more, and
 * each held its own partly used pages. Measured, same load, alternating runs: resident once
 * settled 289 and 289 MB → 273 and 282 MB, control-plane CPU per task 0.485 and 0.449 ms → 0.44 and
 * 0.411 ms. MALLOC_CONF, when the user sets it, is jemalloc's to read instead.
 */
export const JEMALLOC_CONF = "narenas:1";

export const JEMALLOC_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
  "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
  "/usr/lib64/libjemalloc.so.2",
  "/usr/lib/libjemalloc.so.2",
  "/usr/local/lib/libjemalloc.so.2",
];

export type Malloc = "jemalloc" | "system";

/** The allocator a process (this one by default) runs with, read from its memory map. */
export function mallocOf(pid: number | "self" = "self"): Malloc {
  try {
    return readFileSync(`/proc/${pid}/maps`, "utf8").includes("/libjemalloc.so") ? "jemalloc" : "system";
  } catch {
    return "system";
  }
}

/**
 * Takes the launcher's own preload out of an environment (this process's, at start), so the
 * processes Berth starts — nats-server, `berth` children, which come back through bin/berth —
 * are not put on jemalloc by inheritance. A preload the user set is left alone.
 */
export function forgetOwnPreload(env: NodeJS.ProcessEnv): void {
  const own = env.BERTH_MALLOC_PRELOADED;
  if (own === undefined) return;
  if (env.LD_PRELOAD === own) delete env.LD_PRELOAD;
  delete env.BERTH_MALLOC_PRELOADED;
}

/** Says at start which allocator a long-running process got, and how to get jemalloc if not. */
export function logMalloc(log: { info(o: object, msg: string): void }): void {
  const malloc = mallocOf();
  log.info(
    { malloc },
    malloc === "jemalloc"
      ? "C allocator: jemalloc"
      : "C allocator: the system's malloc (started without bin/berth, BERTH_MALLOC=system, or libjemalloc2 not installed; jemalloc gives memory back sooner)",
  );
}
