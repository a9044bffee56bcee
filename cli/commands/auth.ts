// login, logout, whoami.
import type { Command } from "commander";
import { ApiClient } from "../api/client";
import { configFile, normalizeUrl, readConfig, removeConfig, writeConfig } from "../config";
import { output } from "../context";
import { CliError, EXIT } from "../errors";
import { act, type Setup } from "../program";

const TOKEN = /^tsl_[A-Za-z0-9_-]{43}$/;

export function registerAuth(program: Command, setup: Setup): void {
  const { io } = setup;
  program
    .command("login")
    .description("store the platform URL and an API token (made in the portal: team → API tokens)")
    .option("--url <url>", "the platform's address, e.g. https://tussilago.example.org")
    .option("--token <token>", "the API token (tsl_…); prefer the prompt or TUSSILAGO_TOKEN, shells keep history")
    .action(async (options: { url?: string; token?: string; json?: boolean }, command: Command) => {
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      const stored = await readConfig(io.env).catch(() => null);
      const url = normalizeUrl(
        options.url ?? io.env.TUSSILAGO_URL ?? (await ask("Platform URL", stored?.url ?? "https://")),
      );
      const token = (options.token ?? io.env.TUSSILAGO_TOKEN ?? (await ask("API token", undefined, true))).trim();
      if (!TOKEN.test(token)) {
        throw new CliError("invalid", "That is not a Tussilago API token (tsl_ and 43 characters).", EXIT.usage);
      }
      // Checked before it is stored: a typo should fail here, not at the next command.
      const client = new ApiClient({ baseUrl: url, token, fetch: setup.fetch });
      const { team } = await client.call("getTeam");
      const file = await writeConfig(io.env, { url, token, team: { id: team.id, name: team.name } });
      const result = { url, team, configFile: file };
      if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      else io.stdout(`Logged in to ${url} as a token of team ${team.name}. Saved in ${file} (mode 0600).\n`);
      setup.setExit(EXIT.ok);
    });

  async function ask(question: string, fallback?: string, secret = false): Promise<string> {
    if (io.prompt === null) {
      throw new CliError(
        "missing_argument",
        `No terminal to ask for the ${question.toLowerCase()}: pass --url and --token (or TUSSILAGO_URL and TUSSILAGO_TOKEN).`,
        EXIT.usage,
      );
    }
    const answer = (await io.prompt(fallback ? `${question} [${fallback}]: ` : `${question}: `, { secret })).trim();
    return answer === "" && fallback ? fallback : answer;
  }

  program
    .command("logout")
    .description("forget the stored URL and token (the token itself stays valid: revoke it in the portal)")
    .action(async (_options: unknown, command: Command) => {
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      const removed = await removeConfig(io.env);
      const file = configFile(io.env);
      if (json) io.stdout(`${JSON.stringify({ removed, configFile: file })}\n`);
      else io.stdout(removed ? `Removed ${file}.\n` : "Not logged in.\n");
      setup.setExit(EXIT.ok);
    });

  program
    .command("whoami")
    .description("show the platform and the team the token acts on")
    .action(
      act(setup, async (ctx) => {
        const { team } = await ctx.client.call("getTeam");
        output(ctx, { url: ctx.client.baseUrl, team }, () => `${team.name} (${team.slug}) on ${ctx.client.baseUrl}`);
        return EXIT.ok;
      }),
    );
}
