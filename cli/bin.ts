// The process around runCli: real stdout/stderr, the environment, the working directory, a prompt on a terminal.
// bin/tussilago.mjs loads this file through tsx.
import readline from "node:readline";
import { colorAllowed, type Io } from "./io";
import { runCli } from "./main";

function prompt(question: string, options: { secret?: boolean } = {}): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (options.secret) {
    // Echo nothing of what is typed (the token): readline writes through _writeToOutput, which we silence after
    // the question. The standard way to read a secret with node:readline; no extra dependency for it.
    const internal = rl as unknown as { _writeToOutput: (text: string) => void };
    let asked = false;
    internal._writeToOutput = (text: string) => {
      if (!asked) process.stderr.write(text);
    };
    queueMicrotask(() => {
      asked = true;
    });
  }
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      if (options.secret) process.stderr.write("\n");
      rl.close();
      resolve(answer);
    });
  });
}

const io: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  prompt: process.stdin.isTTY && process.stderr.isTTY ? prompt : null,
  env: process.env,
  cwd: process.cwd(),
  color: colorAllowed(process.env, Boolean(process.stderr.isTTY)),
};

// Ctrl-C while following a deployment or logs stops following; the work on the platform goes on.
process.on("SIGINT", () => process.exit(130));

process.exitCode = await runCli(process.argv.slice(2), io);
