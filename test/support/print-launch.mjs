// Loaded by the launcher test through BERTH_NODE_ARGS=--import=<this file>: prints how bin/berth
// started Node, then exits before Berth itself runs.
import { readFileSync } from "node:fs";

process.stdout.write(
  JSON.stringify({
    jemalloc: readFileSync("/proc/self/maps", "utf8").includes("/libjemalloc.so"),
    execArgv: process.execArgv,
    mallocConf: process.env.MALLOC_CONF ?? null,
  }),
);
process.exit(0);
