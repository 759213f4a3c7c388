import { type CommandSpec, helpText, parse, UsageError } from "./args.ts";
import { agentCommand } from "./commands/agent.ts";
import { benchCommand } from "./commands/bench.ts";
import { composeCommand } from "./commands/compose.ts";
import { deployCommand } from "./commands/deploy.ts";
import { drainCommand } from "./commands/drain.ts";
import { eventsCommand } from "./commands/events.ts";
import { instancesCommand } from "./commands/instances.ts";
import { logsCommand } from "./commands/logs.ts";
import { psCommand, tasksCommand } from "./commands/ps.ts";
import { runCommand } from "./commands/run.ts";
import { scaleCommand } from "./commands/scale.ts";
import { secretCommand } from "./commands/secret.ts";
import { serverCommand } from "./commands/server.ts";
import { servicesCommand } from "./commands/services.ts";
import { simCommand } from "./commands/sim.ts";
import { stateCommand } from "./commands/state.ts";
import { stopCommand } from "./commands/stop.ts";
import { upCommand } from "./commands/up.ts";
import { waitCommand } from "./commands/wait.ts";

/** Entry point of the `berth` command. Exit codes: 0 ok, 1 failure, 2 usage error. */
const commands: CommandSpec[] = [
  upCommand,
  serverCommand,
  agentCommand,
  eventsCommand,
  simCommand,
  benchCommand,
  // Resource commands: ECS API clients for the people who run Berth.
  runCommand,
  psCommand,
  tasksCommand,
  stopCommand,
  logsCommand,
  servicesCommand,
  scaleCommand,
  deployCommand,
  instancesCommand,
  drainCommand,
  waitCommand,
  stateCommand,
  composeCommand,
  secretCommand,
];

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
