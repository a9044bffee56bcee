// What every command that talks to the platform needs: the API client (from TUSSILAGO_URL/TUSSILAGO_TOKEN or the
// config file), the output, --json, and the app the command acts on (--app NAME or ID, else the linked directory).
import { ApiClient, sleep } from "./api/client";
import type { App, Operation } from "./api/schemas";
import { resolveCredentials } from "./config";
import { CliError, EXIT } from "./errors";
import type { Io } from "./io";
import { findLink } from "./link";

export type GlobalOptions = { app?: string; json?: boolean };

export type Context = {
  io: Io;
  json: boolean;
  client: ApiClient;
  /** Milliseconds between polls while following a deployment, a run or an operation. */
  pollMs: number;
  /**
   * The app named by --app, else the one linked in `fromDir` (default: the current directory) or a parent; a CliError
   * (exit code 2 or 4) when there is none.
   */
  app: (fromDir?: string) => Promise<App>;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function makeContext(io: Io, options: GlobalOptions, fetchImpl?: typeof fetch): Promise<Context> {
  const credentials = await resolveCredentials(io.env);
  const client = new ApiClient({ baseUrl: credentials.url, token: credentials.token, fetch: fetchImpl });
  const pollMs = Number(io.env.TUSSILAGO_POLL_MS) > 0 ? Number(io.env.TUSSILAGO_POLL_MS) : 1_000;
  let cached: App | undefined;
  const app = async (fromDir?: string) => {
    cached ??= await resolveApp(client, fromDir ?? io.cwd, options.app);
    return cached;
  };
  return { io, json: options.json === true, client, pollMs, app };
}

async function resolveApp(client: ApiClient, fromDir: string, selector: string | undefined): Promise<App> {
  if (selector !== undefined) {
    if (UUID.test(selector)) return (await client.call("getApp", { params: { appId: selector } })).app;
    return findAppByName(client, selector);
  }
  const link = await findLink(fromDir);
  if (link === null) {
    throw new CliError(
      "no_app",
      "Which app? Pass --app NAME, or run this in a directory linked with `tussilago link NAME` or `apps:create`.",
      EXIT.usage,
    );
  }
  return (await client.call("getApp", { params: { appId: link.appId } })).app;
}

export async function findAppByName(client: ApiClient, name: string): Promise<App> {
  for await (const app of allPages((cursor) => client.call("listApps", { query: { limit: 200, cursor } }))) {
    if (app.name === name) return app;
  }
  throw new CliError("not_found", `No app named ${JSON.stringify(name)} in this team.`, EXIT.notFound);
}

/** Every item of a paginated list, page by page (the API's nextCursor). */
export async function* allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/** Polls an operation until it ends; a failed one is a CliError with its reason (exit code 1). */
export async function waitForOperation(ctx: Context, operation: Operation): Promise<Operation> {
  let current = operation;
  while (current.status === "queued" || current.status === "running") {
    await sleep(ctx.pollMs);
    current = (await ctx.client.call("getOperation", { params: { id: current.id } })).operation;
  }
  if (current.status !== "succeeded") {
    throw new CliError(
      `operation_${current.status}`,
      current.error ?? `${current.kind} ${current.status}.`,
      EXIT.failure,
    );
  }
  return current;
}

/** Writes the result: the JSON document with --json, else the text for people. */
export function output(ctx: Context, json: unknown, text: () => string): void {
  if (ctx.json) ctx.io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  else {
    const rendered = text();
    if (rendered !== "") ctx.io.stdout(rendered.endsWith("\n") ? rendered : `${rendered}\n`);
  }
}

/** Progress for people, on stderr (also with --json: stdout then holds only the JSON document). */
export function progress(ctx: Context, text: string): void {
  ctx.io.stderr(text.endsWith("\n") ? text : `${text}\n`);
}
