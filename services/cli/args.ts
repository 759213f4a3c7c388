import { type ParseArgsConfig, parseArgs } from "node:util";

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

/** An integer option's value (undefined when not given); anything else is a usage error. */
export function integer(value: unknown, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}`);
  return n;
}

/** A command's parsed options. */
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** One line per option, shown by --help. */
  help: [string, string][];
  /** Example invocations, shown by --help after the options. */
  examples?: string[];
  allowPositionals?: boolean;
  run(values: Values, positionals: string[]): Promise<number | undefined>;
}

export function parse(spec: CommandSpec, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: "boolean", short: "h" } },
      allowPositionals: spec.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    const text = (err as Error).message;
    // A negative number reads as an unknown short option, or as no value for the option before
    // it ("ambiguous"): say what it is instead.
    const negative = argv.find((a) => /^-\d/.test(a));
    if (negative && (text.includes(`'${negative}'`) || /ambiguous/.test(text))) {
      const option = /ambiguous/.test(text) ? /'(--?[\w-]+)/.exec(text)?.[1] : undefined;
      throw new UsageError(`${option ? `${option} ` : ""}${negative}: negative numbers are not valid here`);
    }
    // Node's text, on one line, without its advice on positionals.
    throw new UsageError((text.split(". To specify a positional")[0] as string).replace(/\s*\n\s*/g, " "));
  }
}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(...spec.help.map(([flag]) => flag.length), 10);
  const lines = spec.help.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
  const examples = spec.examples?.length ? ["", "Examples:", ...spec.examples.map((e) => `  ${e}`)] : [];
  return [`berth ${spec.name} — ${spec.summary}`, "", `Usage: ${spec.usage}`, "", "Options:", ...lines, `  ${"-h, --help".padEnd(width)}  Show this help.`, ...examples].join("\n");
}

export const env = (name: string, fallback: string) => process.env[name] ?? fallback;
