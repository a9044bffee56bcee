// The `tussilago` command line: commander parses (a maintained parser: help, usage errors, variadic operands and
// `--` handling for free), the commands in cli/commands/ talk to the REST API through cli/api/client.ts.
// runCli is pure with respect to the process (output, environment and the working directory come in through Io), so
// tests run it in-process; cli/bin.ts wires it to the real process.
import { Command, CommanderError } from "commander";
import { registerApps } from "./commands/apps";
import { registerAuth } from "./commands/auth";
import { registerDeploy } from "./commands/deploy";
import { registerRuntime } from "./commands/runtime";
import { registerServices } from "./commands/services";
import { registerSettings } from "./commands/settings";
import { CliError, EXIT } from "./errors";
import { type Io, paint } from "./io";
import type { Setup } from "./program";

export const VERSION = "0.1.0";

export function buildProgram(setup: Setup): Command {
  const { io } = setup;
  const program = new Command("tussilago")
    .description("Deploy and run apps on a Tussilago platform.")
    .version(VERSION)
    .option("-a, --app <name>", "the app to act on (name or ID); default: the linked directory's .tussilago.json")
    .option("--json", "machine-readable output: one JSON document on stdout")
    .showHelpAfterError("(run tussilago --help for the commands)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(paint(io, "red", text)),
    });
  registerAuth(program, setup);
  registerApps(program, setup);
  registerDeploy(program, setup);
  registerSettings(program, setup);
  registerRuntime(program, setup);
  registerServices(program, setup);
  // Subcommands inherit the same output and exit behaviour as the program.
  for (const command of program.commands) {
    command.exitOverride().configureOutput(program.configureOutput()).showHelpAfterError(true);
  }
  return program;
}

/** Runs the CLI with `argv` (the words after `tussilago`) and returns the exit code (docs/cli.md#exit-codes). */
export async function runCli(argv: string[], io: Io, deps: { fetch?: typeof fetch } = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram({ io, fetch: deps.fetch, setExit: (code) => (exitCode = code) });
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exitCode 0; everything else commander throws is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      const suffix = error.requestId ? ` (request ${error.requestId})` : "";
      io.stderr(`${paint(io, "red", "error:")} ${error.code}: ${error.message}${suffix}\n`);
      return error.exitCode;
    }
    // Never a stack trace: a local failure (a file that cannot be read, …) is reported in one line.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`${paint(io, "red", "error:")} internal: ${message}\n`);
    return EXIT.failure;
  }
}
