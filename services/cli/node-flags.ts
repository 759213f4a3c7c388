/**
 * The V8 flags Berth's long-running processes run with, wherever they are started: the `berth`
 * command's launcher (bin/berth, which `npm start`, `npm run bench`, the container image and the
 * benchmarks' processes go through), bin/berth.mjs's first line, and the processes the tests
 * start (a unit test holds them all to this list).
 *
 * A 64 MB young generation (semi-space) instead of Node's 16 MB: a control plane under load
 * allocates a few short-lived objects per event (decoded envelopes, rendered ECS events, acks);
 * with the small default most of them outlived two scavenges and were promoted, and garbage
 * collection took a fifth of the process's time. Measured on 60,000 placements on 10,000
 * instances: 0.50 → 0.39 ms of control-plane CPU per task (docs/performance.md).
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];
