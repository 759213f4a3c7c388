import { type CommandSpec, helpText, parse, UsageError } from "./args.ts";
import { agentCommand } from "./commands/agent.ts";
import { eventsCommand } from "./commands/events.ts";
import { serverCommand } from "./commands/server.ts";
import { simCommand } from "./commands/sim.ts";
import { upCommand } from "./commands/up.ts";

/** Entry point of the `berth` command. Exit codes: 0 ok, 1 failure, 2 usage error. */
const commands: CommandSpec[] = [upCommand, serverCommand, agentCommand, eventsCommand, simCommand];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "berth — a container orchestrator that speaks the Amazon ECS API",
    "",
    "Usage: berth <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `berth <command> --help` for a command's options.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(overview());
    return 0;
  }
  const spec = commands.find((c) => c.name === name);
  if (!spec) {
    console.error(`berth: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return 2;
  }
  try {
    const { values, positionals } = parse(spec, rest);
    if (values.help) {
      console.log(helpText(spec));
      return 0;
    }
    return (await spec.run(values, positionals)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`berth ${spec.name}: ${err.message}\n\n${helpText(spec)}`);
      return 2;
    }
    console.error(`berth ${spec.name}: ${(err as Error).message}`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
