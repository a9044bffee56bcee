// env, env:set K=V..., env:unset K..., scale TYPE=N..., restart.
import type { Command } from "commander";
import { output, progress, waitForOperation } from "../context";
import { CliError, EXIT } from "../errors";
import { act, listArg, type Setup } from "../program";

/** KEY=VALUE pairs: the value is everything after the first "=" (it may hold "=" itself, or be empty). */
export function parseAssignments(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new CliError("invalid", `${JSON.stringify(pair)} is not KEY=VALUE.`, EXIT.usage);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/** TYPE=COUNT pairs for scale: whole numbers only (the API states the range). */
export function parseScale(pairs: string[]): Record<string, number> {
  const processes: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^([a-z0-9][a-z0-9-]*)=(\d{1,3})$/.exec(pair);
    if (!match?.[1] || match[2] === undefined) {
      throw new CliError("invalid", `${JSON.stringify(pair)} is not TYPE=COUNT (e.g. web=2 worker=1).`, EXIT.usage);
    }
    processes[match[1]] = Number(match[2]);
  }
  return processes;
}

export function registerSettings(program: Command, setup: Setup): void {
  program
    .command("env")
    .description("list the app's environment variables (values masked)")
    .action(
      act(setup, async (ctx) => {
        const app = await ctx.app();
        const { env } = await ctx.client.call("getEnv", { params: { appId: app.id } });
        output(ctx, { env }, () =>
          Object.keys(env).length === 0
            ? "No variables set."
            : Object.entries(env)
                .map(([key, value]) => `${key}=${value}`)
                .join("\n"),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("env:set")
    .description("set environment variables; a running app restarts once")
    .argument("<pairs...>", "KEY=VALUE")
    .action(
      act(setup, async (ctx, args) => {
        const changes = parseAssignments(listArg(args[0]));
        const app = await ctx.app();
        const { env } = await ctx.client.call("putEnv", { params: { appId: app.id }, body: { env: changes } });
        output(ctx, { env }, () => `Set ${Object.keys(changes).join(", ")} on ${app.name}.`);
        return EXIT.ok;
      }),
    );

  program
    .command("env:unset")
    .description("remove environment variables; a running app restarts once")
    .argument("<keys...>", "KEY")
    .action(
      act(setup, async (ctx, args) => {
        const keys = listArg(args[0]);
        const app = await ctx.app();
        const changes = Object.fromEntries(keys.map((key) => [key, null]));
        const { env } = await ctx.client.call("putEnv", { params: { appId: app.id }, body: { env: changes } });
        output(ctx, { env }, () => `Unset ${keys.join(", ")} on ${app.name}.`);
        return EXIT.ok;
      }),
    );

  program
    .command("scale")
    .description("set how many containers each process type runs, e.g. scale web=2 worker=1")
    .argument("<pairs...>", "TYPE=COUNT")
    .action(
      act(setup, async (ctx, args) => {
        const processes = parseScale(listArg(args[0]));
        const app = await ctx.app();
        const answer = await ctx.client.call("scaleApp", { params: { appId: app.id }, body: { processes } });
        progress(ctx, `Scaling ${app.name}…`);
        const operation = await waitForOperation(ctx, answer.operation);
        output(ctx, { app: answer.app, operation }, () =>
          Object.entries(processes)
            .map(([type, count]) => `${type}=${count}`)
            .join(" "),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("restart")
    .description("replace the app's containers with fresh ones, without downtime")
    .action(
      act(setup, async (ctx) => {
        const app = await ctx.app();
        const answer = await ctx.client.call("restartApp", { params: { appId: app.id } });
        progress(ctx, `Restarting ${app.name}…`);
        const operation = await waitForOperation(ctx, answer.operation);
        output(ctx, { app: answer.app, operation }, () => `Restarted ${app.name}.`);
        return EXIT.ok;
      }),
    );
}
