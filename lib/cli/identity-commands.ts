// Management commands for accounts, teams and API tokens: what an operator needs before anyone can sign in (the
// first user, a team, a token for CI) and when someone is locked out (a reset link). Operators and scripts rely on
// them: `--json` prints exactly one JSON object on stdout. Exit codes: 0 done, 1 refused (conflict, not found),
// 2 bad input (nothing was touched).
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { z } from "zod";
import { createPrismaClient, type Db } from "@/lib/db";
import { createApiToken } from "@/lib/domain/api-tokens";
import type { Ctx, RequestMeta } from "@/lib/domain/context";
import { emailInput, passwordInput, scopesInput, teamName, tokenName, userName } from "@/lib/domain/schemas";
import { createTeam } from "@/lib/domain/teams";
import { createPasswordResetLink, createUser, PASSWORD_RESET_TTL_MS } from "@/lib/domain/users";
import { loadEnvOrExit } from "@/lib/env";
import { AppError, isAppError } from "@/lib/errors";
import { logger } from "@/lib/logger";
import { openPlatformDatabase } from "@/lib/services/database";

export type CliIo = { out(text: string): void; err(text: string): void };

export type CliCommand = { summary: string; usage: string; run(args: string[], io: CliIo): Promise<number> };

/** Runs `fn` with a platform database client and closes it afterwards. Tests pass their own. */
export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;

const log = logger({ component: "manage" });

/** Opens the platform database the way `manage check` does: DATABASE_URL, or the embedded PostgreSQL. */
export const withPlatformDb: WithDb = async (fn) => {
  const env = loadEnvOrExit();
  const database = await openPlatformDatabase(env, log, { attachIfRunning: true });
  const db = createPrismaClient(database.url, 2);
  try {
    return await fn(db);
  } finally {
    await db.$disconnect();
    await database.stop();
  }
};

/** Bad command-line input: exit 2 with the usage line. */
class UsageError extends Error {
  override name = "UsageError";
}

type OptionSpec = Record<string, { type: "string" | "boolean" }>;

function parseOptions(args: string[], options: OptionSpec): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args,
      options: { ...options, json: { type: "boolean" } },
      allowPositionals: false,
      strict: true,
    });
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    // node:util reports unknown options, missing values and stray positionals as TypeErrors with an ERR_ code.
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
}

function validate<S extends z.ZodType>(schema: S, values: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const [key] = issue.path;
    if (typeof key !== "string") return issue.message;
    // A missing option reads better as "required" than zod's type message.
    const message = issue.code === "invalid_type" && values[key] === undefined ? "required" : issue.message;
    return `--${key}: ${message}`;
  });
  throw new UsageError(lines.join("\n"));
}

/** Request metadata for audit rows written by the CLI: no IP, and the command in place of a user agent. */
function cliMeta(command: string): RequestMeta {
  return { requestId: randomUUID(), ip: null, userAgent: `tussilago-manage ${command}` };
}

function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

function printLines(io: CliIo, title: string, fields: [string, string][], notes: string[] = []): void {
  const width = Math.max(...fields.map(([label]) => label.length));
  const rows = fields.map(([label, value]) => `  ${`${label}:`.padEnd(width + 1)} ${value}`);
  io.out(`${[title, ...rows, ...notes].join("\n")}\n`);
}

function define(
  spec: { summary: string; usage: string; options: OptionSpec },
  run: (values: Record<string, string | boolean | undefined>, io: CliIo, json: boolean) => Promise<number>,
): CliCommand {
  return {
    summary: spec.summary,
    usage: spec.usage,
    async run(args, io) {
      try {
        const values = parseOptions(args, spec.options);
        return await run(values, io, values.json === true);
      } catch (error) {
        if (error instanceof UsageError) {
          io.err(`${error.message}\n\nusage: npm run manage -- ${spec.usage}\n`);
          return 2;
        }
        if (isAppError(error)) {
          io.err(`${error.message}\n`);
          return error.code === "invalid" || error.code === "bad_request" ? 2 : 1;
        }
        throw error;
      }
    },
  };
}

const createUserArgs = z.strictObject({
  email: emailInput,
  password: passwordInput,
  name: userName.optional(),
  admin: z.boolean().default(false),
  json: z.boolean().optional(),
});

const createTeamArgs = z.strictObject({ name: teamName, owner: emailInput, json: z.boolean().optional() });

const createTokenArgs = z.strictObject({
  team: z.uuid("Must be a team ID (a UUID)."),
  name: tokenName,
  scopes: z
    .string()
    .transform((value) => value.split(",").map((scope) => scope.trim()))
    .pipe(scopesInput),
  json: z.boolean().optional(),
});

const resetPasswordArgs = z.strictObject({ email: emailInput, json: z.boolean().optional() });

export function makeIdentityCommands(withDb: WithDb): Record<string, CliCommand> {
  return {
    "create-user": define(
      {
        summary: "Create an account (the first account of an instance is its administrator)",
        usage: "create-user --email E --password P [--name N] [--admin] [--json]",
        options: {
          email: { type: "string" },
          password: { type: "string" },
          name: { type: "string" },
          admin: { type: "boolean" },
        },
      },
      async (values, io, json) => {
        const input = validate(createUserArgs, values);
        const { email, password, name, admin } = input;
        const user = await withDb((db) => createUser(db, { email, password, name: name ?? null, admin }));
        const view = { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin };
        if (json) printJson(io, view);
        else
          printLines(io, "Created user", [
            ["id", view.id],
            ["email", view.email],
            ["name", view.name ?? "-"],
            ["admin", view.isAdmin ? "yes" : "no"],
          ]);
        return 0;
      },
    ),

    "create-team": define(
      {
        summary: "Create a team owned by an existing account (audited as the owner)",
        usage: "create-team --name N --owner EMAIL [--json]",
        options: { name: { type: "string" }, owner: { type: "string" } },
      },
      async (values, io, json) => {
        const input = validate(createTeamArgs, values);
        const { team, owner } = await withDb(async (db) => {
          const owner = await db.user.findUnique({ where: { email: input.owner }, select: { id: true, email: true } });
          if (!owner) throw new AppError("not_found", `No account has the email ${input.owner}: create it first.`);
          const team = await createTeam(db, { userId: owner.id, name: input.name, meta: cliMeta("create-team") });
          return { team, owner };
        });
        const view = { ...team, owner };
        if (json) printJson(io, view);
        else
          printLines(io, "Created team", [
            ["id", team.id],
            ["name", team.name],
            ["slug", team.slug],
            ["owner", `${owner.email} (${owner.id})`],
          ]);
        return 0;
      },
    ),

    "create-token": define(
      {
        summary: "Create a team API token; prints the token once",
        usage: "create-token --team TEAM_ID --name N --scopes read[,write] [--json]",
        options: { team: { type: "string" }, name: { type: "string" }, scopes: { type: "string" } },
      },
      async (values, io, json) => {
        const input = validate(createTokenArgs, values);
        const created = await withDb(async (db) => {
          // The domain authorizes a person acting in the team. The operator stands in for the team's first owner,
          // labelled so the audit log tells the CLI apart from that owner's own actions. The token itself is the
          // operator's (no creator): it keeps its scope's role whoever joins or leaves the team, since whoever runs
          // this command already holds the platform database and the secret key.
          const owner = await db.membership.findFirst({
            where: { teamId: input.team, role: "owner", team: { status: "active" } },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
            select: { userId: true },
          });
          if (!owner) throw new AppError("not_found", `No active team with the ID ${input.team} (with an owner).`);
          const ctx: Ctx = {
            actor: { type: "user", userId: owner.userId, label: "manage create-token" },
            teamId: input.team,
            role: "owner",
            meta: cliMeta("create-token"),
          };
          return await createApiToken(db, ctx, { name: input.name, scopes: input.scopes }, { operator: true });
        });
        const { apiToken, token } = created;
        if (json) {
          printJson(io, {
            id: apiToken.id,
            teamId: input.team,
            name: apiToken.name,
            prefix: apiToken.prefix,
            scopes: apiToken.scopes,
            expiresAt: apiToken.expiresAt,
            createdAt: apiToken.createdAt,
            token,
          });
        } else {
          printLines(
            io,
            "Created API token",
            [
              ["id", apiToken.id],
              ["team", input.team],
              ["name", apiToken.name],
              ["scopes", apiToken.scopes.join(",")],
              ["token", token],
            ],
            ["", "Store the token now: it is shown only this once (only its hash is kept)."],
          );
        }
        return 0;
      },
    ),

    "reset-password": define(
      {
        summary: "Print a one-time password reset link for an account (valid for one hour)",
        usage: "reset-password --email E [--json]",
        options: { email: { type: "string" } },
      },
      async (values, io, json) => {
        const input = validate(resetPasswordArgs, values);
        const result = await withDb(async (db) => {
          const user = await db.user.findUnique({ where: { email: input.email }, select: { id: true } });
          const link = user ? await createPasswordResetLink(db, input.email) : null;
          // Operators may learn whether an account exists; the public reset form is the one that must not tell.
          if (!user || !link) throw new AppError("not_found", `No account has the email ${input.email}.`);
          return { userId: user.id, link };
        });
        const expiresAt = new Date(Date.now() + PASSWORD_RESET_TTL_MS);
        const note = "The password is unchanged until the link is used; earlier reset links stop working.";
        if (json) {
          printJson(io, { userId: result.userId, email: input.email, link: result.link, expiresAt });
          io.err(`${note}\n`);
        } else {
          printLines(
            io,
            "Password reset link (single use, valid for one hour)",
            [
              ["user", `${input.email} (${result.userId})`],
              ["link", result.link],
            ],
            ["", note],
          );
        }
        return 0;
      },
    ),
  };
}

export const identityCommands = makeIdentityCommands(withPlatformDb);
