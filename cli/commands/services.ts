// domains, domains:add HOST, db:create NAME, db:url NAME.
import type { Command } from "commander";
import type { ApiClient } from "../api/client";
import type { Domain } from "../api/schemas";
import { allPages, output, progress, waitForOperation } from "../context";
import { CliError, EXIT } from "../errors";
import { table } from "../io";
import { act, type Setup, stringArg } from "../program";

export function registerServices(program: Command, setup: Setup): void {
  program
    .command("domains")
    .description("list the app's custom domains")
    .action(
      act(setup, async (ctx) => {
        const app = await ctx.app();
        const domains: Domain[] = [];
        for await (const domain of allPages((cursor) =>
          ctx.client.call("listDomains", { params: { appId: app.id }, query: { limit: 200, cursor } }),
        )) {
          domains.push(domain);
        }
        output(ctx, { domains }, () =>
          domains.length === 0
            ? "No custom domains: tussilago domains:add HOST"
            : table([["HOSTNAME", "STATUS"], ...domains.map((d) => [d.hostname, d.status])]),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("domains:add")
    .description("add a custom domain to the app and show the DNS record that proves it is yours")
    .argument("<hostname>", "e.g. www.example.org")
    .action(
      act(setup, async (ctx, args) => {
        const app = await ctx.app();
        const { domain } = await ctx.client.call("createDomain", {
          params: { appId: app.id },
          body: { hostname: stringArg(args[0]) ?? "" },
        });
        const v = domain.verification;
        output(ctx, { domain }, () =>
          [
            `Added ${domain.hostname} (${domain.status}).`,
            `Create this DNS record, then the platform verifies it: ${v.type} ${v.name} ${v.value}`,
          ].join("\n"),
        );
        return EXIT.ok;
      }),
    );

  program
    .command("db:create")
    .description("create a PostgreSQL database, attached to the app when --app or a linked directory names one")
    .argument("<name>", "the database's name")
    .option("--no-attach", "do not attach it to the app")
    .action(
      act(setup, async (ctx, args, options) => {
        const name = stringArg(args[0]) ?? "";
        // Without --app and outside a linked directory the database is created unattached; any other failure counts.
        const appId =
          options.attach === false
            ? undefined
            : await ctx.app().then(
                (app) => app.id,
                (error: unknown) => {
                  if (error instanceof CliError && error.code === "no_app") return undefined;
                  throw error;
                },
              );
        const answer = await ctx.client.call("createDatabase", { body: appId ? { name, appId } : { name } });
        progress(ctx, `Creating database ${name}…`);
        const operation = await waitForOperation(ctx, answer.operation);
        output(ctx, { database: answer.database, operation }, () =>
          appId ? `Created ${name}, attached (the app gets DATABASE_URL).` : `Created ${name}.`,
        );
        return EXIT.ok;
      }),
    );

  program
    .command("db:url")
    .description("print a database's connection URL (a credential: needs a write token, and is audited)")
    .argument("<name>", "the database's name")
    .action(
      act(setup, async (ctx, args) => {
        const database = await findDatabase(ctx.client, stringArg(args[0]) ?? "");
        const credentials = await ctx.client.call("getDatabaseCredentials", { params: { id: database.id } });
        output(ctx, { url: credentials.url }, () => credentials.url);
        return EXIT.ok;
      }),
    );
}

async function findDatabase(client: ApiClient, name: string) {
  for await (const database of allPages((cursor) => client.call("listDatabases", { query: { limit: 200, cursor } }))) {
    if (database.name === name) return database;
  }
  throw new CliError("not_found", `No database named ${JSON.stringify(name)} in this team.`, EXIT.notFound);
}
