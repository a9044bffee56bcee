// What a command writes and reads, injected so tests run commands in-process: stdout for results (with --json only
// the JSON document), stderr for progress and errors, colours only when stderr/stdout is a TTY and NO_COLOR is unset.
import { styleText } from "node:util";

/** The environment variables the CLI reads (a plain record: the CLI runs outside the platform's typed env). */
export type Env = Record<string, string | undefined>;

export type Io = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads one line typed by the user; `secret` hides what is typed (the token). Null without a terminal. */
  prompt: ((question: string, options?: { secret?: boolean }) => Promise<string>) | null;
  env: Env;
  cwd: string;
  color: boolean;
};

type Style = "bold" | "dim" | "green" | "red" | "yellow" | "cyan";

export function paint(io: Io, style: Style, text: string): string {
  return io.color ? styleText(style, text, { validateStream: false }) : text;
}

export function colorAllowed(env: Env, isTty: boolean): boolean {
  // https://no-color.org: any non-empty NO_COLOR turns colours off; FORCE_COLOR=0 too.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR === "0") return false;
  return isTty && env.TERM !== "dumb";
}

/** A plain table for people: columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [index, cell] of row.entries()) widths[index] = Math.max(widths[index] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => cell.padEnd(widths[index] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
