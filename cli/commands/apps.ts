// apps, apps:create NAME, apps:delete NAME, link NAME.
import type { Command } from "commander";
import type { App } from "../api/schemas";
import { allPages, findAppByName, output, progress } from "../context";
import { CliError, EXIT } from "../errors";
import { paint, table } from "../io";
import { writeLink } from "../link";
import { act, type Setup, stringArg } from "../program";

export function registerApps(program: Command, setup: Setup): void {
  program
    .command("apps")
    .description("list the team's apps")
    .action(
      act(setup, async (ctx) => {
        const apps: App[] = [];
        for await (const app of allPages((cursor) => ctx.client.call("listApps", { query: { limit: 200, cursor } }))) {
          apps.push(app);
        }
        output(ctx, { apps }, () =>
          apps.length === 0
            ? "No apps yet: tussilago apps:create NAME"
            : table([["NAME", "STATUS", "URL"], ...apps.map((app) => [app.name, app.status, app.url ?? "-"])]),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("apps:create")
    .description("create an app and link the current directory to it")
    .argument("<name>", "the app's name (lowercase letters, digits and dashes)")
    .option("--no-link", "do not write .tussilago.json in the current directory")
    .action(
      act(setup, async (ctx, args, options) => {
        const name = stringArg(args[0]) ?? "";
        const { app } = await ctx.client.call("createApp", { body: { name } });
        const linked = options.link === false ? null : await writeLink(ctx.io.cwd, { appId: app.id, name: app.name });
        output(ctx, { app, linkFile: linked }, () =>
          [
            `Created ${paint(ctx.io, "bold", app.name)} (${app.id}).`,
            linked ? `Linked this directory (${linked}).` : "",
            "Next: tussilago deploy",
          ]
            .filter(Boolean)
            .join("\n"),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("apps:delete")
    .description("delete an app with its containers, route, images and logs")
    .argument("<name>", "the app's name")
    .option("--confirm <name>", "the app's name again, to delete without a prompt")
    .action(
      act(setup, async (ctx, args, options) => {
        const name = stringArg(args[0]) ?? "";
        let confirmation = stringArg(options.confirm);
        if (confirmation === undefined) {
          if (ctx.io.prompt === null) {
            throw new CliError(
              "confirmation_required",
              `Pass --confirm ${name} to delete without a terminal.`,
              EXIT.usage,
            );
          }
          confirmation = (
            await ctx.io.prompt(`This deletes ${name} and all its data. Type its name to confirm: `)
          ).trim();
        }
        if (confirmation !== name) {
          throw new CliError(
            "confirmation_mismatch",
            `Not deleted: the confirmation does not match ${name}.`,
            EXIT.usage,
          );
        }
        const app = await findAppByName(ctx.client, name);
        const answer = await ctx.client.call("deleteApp", { params: { appId: app.id } });
        output(ctx, answer, () => `Deleting ${name}: its containers, route, images and logs go in the background.`);
        return EXIT.ok;
      }),
    );

  program
    .command("link")
    .description("link the current directory to an app (writes .tussilago.json)")
    .argument("<name>", "the app's name")
    .action(
      act(setup, async (ctx, args) => {
        const app = await findAppByName(ctx.client, stringArg(args[0]) ?? "");
        const file = await writeLink(ctx.io.cwd, { appId: app.id, name: app.name });
        progress(ctx, `Linked ${file} to ${app.name}.`);
        output(ctx, { app, linkFile: file }, () => "");
        return EXIT.ok;
      }),
    );
}
