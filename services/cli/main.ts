import { forgetOwnPreload } from "./allocator.ts";
import { type CommandSpec, helpText, parse, UsageError } from "./args.ts";

/**
 * Entry point of the `berth` command. Exit codes: 0 ok, 1 failure, 2 usage error.
 *
 * Commands load on use: a `berth server` never loads Docker's client (and its WASM crypto) or the
 * AWS SDK the resource commands use, which keeps the control plane's memory to what it needs.
 */
interface CommandEntry {
  name: string;
  load: () => Promise<CommandSpec>;
}

const commands: CommandEntry[] = [
  { name: "up", load: async () => (await import("./commands/up.ts")).upCommand },
  { name: "server", load: async () => (await import("./commands/server.ts")).serverCommand },
  { name: "agent", load: async () => (await import("./commands/agent.ts")).agentCommand },
  { name: "events", load: async () => (await import("./commands/events.ts")).eventsCommand },
  { name: "sim", load: async () => (await import("./commands/sim.ts")).simCommand },
  { name: "bench", load: async () => (await import("./commands/bench.ts")).benchCommand },
  // Resource commands: ECS API clients for the people who run Berth.
  { name: "run", load: async () => (await import("./commands/run.ts")).runCommand },
  { name: "ps", load: async () => (await import("./commands/ps.ts")).psCommand },
  { name: "tasks", load: async () => (await import("./commands/ps.ts")).tasksCommand },
  { name: "stop", load: async () => (await import("./commands/stop.ts")).stopCommand },
  { name: "logs", load: async () => (await import("./commands/logs.ts")).logsCommand },
  { name: "services", load: async () => (await import("./commands/services.ts")).servicesCommand },
  { name: "scale", load: async () => (await import("./commands/scale.ts")).scaleCommand },
  { name: "deploy", load: async () => (await import("./commands/deploy.ts")).deployCommand },
  { name: "instances", load: async () => (await import("./commands/instances.ts")).instancesCommand },
  { name: "drain", load: async () => (await import("./commands/drain.ts")).drainCommand },
  { name: "wait", load: async () => (await import("./commands/wait.ts")).waitCommand },
  { name: "state", load: async () => (await import("./commands/state.ts")).stateCommand },
  { name: "compose", load: async () => (await import("./commands/compose.ts")).composeCommand },
  { name: "secret", load: async () => (await import("./commands/secret.ts")).secretCommand },
  { name: "nats-auth", load: async () => (await import("./commands/nats-auth.ts")).natsAuthCommand },
];

async function overview(): Promise<string> {
  const specs = await Promise.all(commands.map((c) => c.load()));
  const width = Math.max(...specs.map((c) => c.name.length));
  return [
    "berth — a container orchestrator that speaks the Amazon ECS API",
    "",
    "Usage: berth <command> [options]",
    "",
    "Commands:",
    ...specs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `berth <command> --help` for a command's options.",
  ].join("\n");
}

/** Commands that run until stopped and stop their own processes first: not ended by a closed stdout. */
const RUNS_UNTIL_STOPPED = new Set(["up", "server", "agent", "sim"]);

/** `berth events | head`: a reader that went away ends the command quietly, as with other tools. */
function endWhenStdoutCloses(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(await overview());
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    console.error(`berth: unknown command ${JSON.stringify(name)}\nRun \`berth --help\` for the commands.`);
    return 2;
  }
  const spec = await entry.load();
  if (!RUNS_UNTIL_STOPPED.has(spec.name)) endWhenStdoutCloses();
  try {
    const { values, positionals } = parse(spec, rest);
    if (values.help) {
      console.log(helpText(spec));
      return 0;
    }
    return (await spec.run(values, positionals)) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      // One line for the error, the usage, and where the rest is: the error stays in sight.
      console.error(`berth ${spec.name}: ${err.message}\nUsage: ${spec.usage}\nRun \`berth ${spec.name} --help\` for the options.`);
      return 2;
    }
    console.error(`berth ${spec.name}: ${(err as Error).message}`);
    return 1;
  }
}

forgetOwnPreload(process.env);
process.exit(await main(process.argv.slice(2)));
