import { resolve } from "node:path";
import { BENCHMARKS, type Benchmark, runBench } from "../../bench/main.ts";
import { type CommandSpec, UsageError } from "../args.ts";

/** The report the README quotes: only a full run of every benchmark writes it unasked. */
const FULL_REPORT = "bench/REPORT.md";
const PARTIAL_REPORT = "bench/REPORT-partial.md";

/** Where a run's report goes: `--out`, else the full report only for a full run of every benchmark. */
export function reportPath(v: { out?: unknown; quick?: unknown; only?: unknown }): string {
  if (v.out !== undefined) return String(v.out);
  return v.quick || v.only !== undefined ? PARTIAL_REPORT : FULL_REPORT;
}

export const benchCommand: CommandSpec = {
  name: "bench",
  summary: "measure placement, replay, API and Docker figures against their targets; write a markdown report",
  usage: "berth bench [--quick] [--only placement,replay,api,docker] [--out FILE]",
  options: {
    quick: { type: "boolean" },
    only: { type: "string" },
    out: { type: "string" },
    "log-dir": { type: "string" },
    profile: { type: "string" },
  },
  help: [
    ["--quick", "smaller sizes and fewer runs: under three minutes (the full run takes under twenty)"],
    ["--only LIST", `run only these benchmarks: ${BENCHMARKS.join(", ")} (default all)`],
    ["--out FILE", `where the markdown report goes (default ${FULL_REPORT} for a full run of every benchmark,`],
    ["", `${PARTIAL_REPORT} for a --quick or --only run, so that it never replaces the full report)`],
    ["--log-dir DIR", "keep the logs of every process the benchmarks start here"],
    ["--profile DIR", "write CPU profiles of the control plane (node --cpu-prof) here"],
    ["", "Needs nats-server; the Docker benchmarks need a Docker engine and the image berth-test/busybox:latest"],
    ["", "(npm run bench builds it through scripts/setup.sh bench) and may initialise Docker Swarm on it, leaving it afterwards."],
  ],
  examples: ["npm run bench -- --quick", "berth bench --only placement,api --log-dir /tmp/bench-logs"],
  async run(v) {
    const only = v.only === undefined ? [...BENCHMARKS] : String(v.only).split(",").map((s) => s.trim());
    const unknown = only.filter((b) => !(BENCHMARKS as readonly string[]).includes(b));
    if (unknown.length > 0) throw new UsageError(`unknown benchmark(s): ${unknown.join(", ")}`);
    await runBench({
      quick: Boolean(v.quick),
      only: only as Benchmark[],
      out: resolve(reportPath(v)),
      ...(v["log-dir"] ? { logDir: resolve(String(v["log-dir"])) } : {}),
      ...(v.profile ? { profileDir: resolve(String(v.profile)) } : {}),
      progress: (line) => console.log(line),
    });
    return 0;
  },
};
