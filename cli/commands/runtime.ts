// logs [-f], run -- CMD...
import type { Command } from "commander";
import { sleep } from "../api/client";
import { output, progress } from "../context";
import { CliError, EXIT } from "../errors";
import { paint } from "../io";
import { act, listArg, type Setup } from "../program";

const RUN_ENDED = new Set(["succeeded", "failed", "timed_out", "cancelled", "skipped", "missed"]);

/**
 * The one command line the API runs (`/bin/sh -c` in the app's container) from the words after `--`: one word is
 * taken as written (`run -- "python manage.py migrate && echo ok"`), several are quoted so each stays one argument.
 */
export function commandLine(words: string[]): string {
  if (words.length === 1) return words[0] ?? "";
  return words
    .map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

export function registerRuntime(program: Command, setup: Setup): void {
  program
    .command("logs")
    .description("show the app's runtime logs")
    .option("-f, --follow", "keep printing new lines until interrupted")
    .option("-n, --tail <lines>", "how many recent lines (1-1000)", "200")
    .action(
      act(setup, async (ctx, _args, options) => {
        const app = await ctx.app();
        const tail = Number.parseInt(String(options.tail), 10);
        if (!(tail >= 1 && tail <= 1000)) throw new CliError("invalid", "--tail takes 1 to 1000.", EXIT.usage);
        let { lines } = await ctx.client.call("getAppLogs", { params: { appId: app.id }, query: { tail } });
        const print = (batch: typeof lines) => {
          for (const line of batch) {
            if (ctx.json) ctx.io.stdout(`${JSON.stringify(line)}\n`);
            else
              ctx.io.stdout(`${paint(ctx.io, "dim", `${line.time} ${line.process}.${line.replica}`)} ${line.text}\n`);
          }
        };
        if (!options.follow) {
          if (ctx.json) output(ctx, { lines }, () => "");
          else print(lines);
          return EXIT.ok;
        }
        // Following prints one JSON object per line with --json (a stream, not one document).
        print(lines);
        // `since` includes lines at that instant: the ones already printed at the last instant are skipped.
        let since = lines.at(-1)?.time;
        let seen = new Set(lines.filter((line) => line.time === since).map(lineKey));
        for (;;) {
          await sleep(ctx.pollMs);
          ({ lines } = await ctx.client.call("getAppLogs", {
            params: { appId: app.id },
            query: since ? { since, tail: 1000 } : { tail },
          }));
          const fresh = lines.filter((line) => !seen.has(lineKey(line)));
          print(fresh);
          if (lines.length > 0) {
            const last = lines.at(-1)?.time;
            seen = new Set([...(last === since ? seen : []), ...lines.filter((l) => l.time === last).map(lineKey)]);
            since = last;
          }
        }
      }),
    );

  program
    .command("run")
    .description("run a one-off command in the app's current release; exits with its exit code")
    .argument("<command...>", "the command, after --")
    .option("--timeout <seconds>", "stop it after this many seconds")
    .action(
      act(setup, async (ctx, args, options) => {
        const command = commandLine(listArg(args[0]));
        const app = await ctx.app();
        const timeoutSeconds = options.timeout === undefined ? undefined : Number(options.timeout);
        if (timeoutSeconds !== undefined && !Number.isInteger(timeoutSeconds)) {
          throw new CliError("invalid", "--timeout takes whole seconds.", EXIT.usage);
        }
        let { run } = await ctx.client.call("createRun", {
          params: { appId: app.id },
          body: timeoutSeconds === undefined ? { command } : { command, timeoutSeconds },
        });
        progress(ctx, paint(ctx.io, "dim", `Running \`${command}\` on ${app.name} (run ${run.id})…`));
        let offset = 0;
        for (;;) {
          const ended = RUN_ENDED.has(run.status);
          const chunk = await ctx.client.call("getRunLogs", { params: { id: run.id }, query: { offset } });
          // The command's output is the result: stdout for people, stderr with --json (stdout holds the document).
          if (chunk.text !== "") (ctx.json ? ctx.io.stderr : ctx.io.stdout)(chunk.text);
          offset = chunk.nextOffset;
          if (ended && (chunk.complete || chunk.text === "")) break;
          if (!ended) await sleep(ctx.pollMs);
          run = (await ctx.client.call("getRun", { params: { id: run.id } })).run;
        }
        output(ctx, { run }, () => "");
        if (run.status === "succeeded") return EXIT.ok;
        if (run.exitCode !== null && run.exitCode > 0 && run.exitCode < 256) {
          progress(ctx, paint(ctx.io, "red", `Exited with code ${run.exitCode}.`));
          return run.exitCode;
        }
        throw new CliError(`run_${run.status}`, run.reason ?? `The run ended ${run.status}.`, EXIT.failure);
      }),
    );
}

function lineKey(line: { time: string; process: string; replica: number; stream: string; text: string }): string {
  return JSON.stringify([line.time, line.process, line.replica, line.stream, line.text]);
}
