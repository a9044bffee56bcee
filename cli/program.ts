// The glue between commander and the commands: each action gets a Context (client, output, app selection) built
// from the global options, and sets the exit code it returns.
import type { Command } from "commander";
import { type Context, type GlobalOptions, makeContext } from "./context";
import type { Io } from "./io";

export type Setup = {
  io: Io;
  fetch?: typeof fetch;
  setExit: (code: number) => void;
};

export type Handler = (ctx: Context, args: unknown[], options: Record<string, unknown>) => Promise<number | undefined>;

/** A commander action that builds the context, runs the handler and records its exit code (0 by default). */
export function act(setup: Setup, handler: Handler) {
  return async (...received: unknown[]) => {
    const command = received.at(-1) as Command;
    const globals = command.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
    const ctx = await makeContext(setup.io, globals, setup.fetch);
    const code = await handler(ctx, command.processedArgs, command.opts());
    setup.setExit(code ?? 0);
  };
}

export function stringArg(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function listArg(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
