import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_CREDENTIALS } from "./ecs.ts";

/** Debian's AWS CLI v2. Called by path: a pip-installed v1 may shadow `aws` on PATH. */
export const AWS_CLI = "/usr/bin/aws";

export interface AwsCliOptions {
  /** Berth's HTTP endpoint, passed as --endpoint-url. */
  endpoint: string;
  region?: string;
  /** Working directory, for file:// arguments. */
  cwd?: string;
  /** Deadline for the command (default 60 s); the CLI is killed after it. */
  timeoutMs?: number;
  /** Access key to sign with (default the dummy TEST_CREDENTIALS). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface AwsCliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON. */
  json?: unknown;
}

// An empty HOME, made once per test process: no user's ~/.aws config or cache can leak in.
let home: string | undefined;
function emptyHome(): string {
  if (home === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "berth-aws-home-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    home = dir;
  }
  return home;
}

/**
 * Runs `/usr/bin/aws <args> --endpoint-url <endpoint> --output json` in a clean environment:
 * dummy credentials, the region, no pager, no config or credentials files, an empty HOME.
 */
export function awsCli(args: string[], opts: AwsCliOptions): Promise<AwsCliResult> {
  const region = opts.region ?? "us-east-1";
  const env: Record<string, string> = {
    PATH: "/usr/bin:/bin",
    HOME: emptyHome(),
    LANG: "C.UTF-8",
    AWS_ACCESS_KEY_ID: (opts.credentials ?? TEST_CREDENTIALS).accessKeyId,
    AWS_SECRET_ACCESS_KEY: (opts.credentials ?? TEST_CREDENTIALS).secretAccessKey,
    ...(opts.credentials?.sessionToken ? { AWS_SESSION_TOKEN: opts.credentials.sessionToken } : {}),
    AWS_DEFAULT_REGION: region,
    AWS_REGION: region,
    AWS_PAGER: "",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_MAX_ATTEMPTS: "1",
    AWS_RETRY_MODE: "standard",
    AWS_CLI_AUTO_PROMPT: "off",
  };
  const fullArgs = [...args, "--endpoint-url", opts.endpoint, "--output", "json"];
  return new Promise((resolve, reject) => {
    const child = spawn(AWS_CLI, fullArgs, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${AWS_CLI}: ${e.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (signal !== null) {
        reject(new Error(`aws ${args.join(" ")} killed by ${signal} (deadline ${timeoutMs} ms); stderr: ${stderr}`));
        return;
      }
      const result: AwsCliResult = { code: code ?? -1, stdout, stderr };
      if (stdout.trim() !== "") {
        try {
          result.json = JSON.parse(stdout);
        } catch {
          // not JSON (e.g. help text); stdout has it
        }
      }
      resolve(result);
    });
  });
}
