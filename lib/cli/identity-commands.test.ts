// The account, team and token commands: called directly against this file's database for the details, and
// spawned through scripts/manage.ts for the contract operators' scripts rely on (exit codes, JSON on stdout).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256 } from "@/lib/auth/tokens";
import { type CliIo, makeIdentityCommands, type WithDb } from "@/lib/cli/identity-commands";
import { getDb } from "@/lib/db";
import { authenticateApiToken } from "@/lib/domain/api-tokens";
import { authenticateWithPassword, resetPassword } from "@/lib/domain/users";
import { getEnv } from "@/lib/env";
import { createTestTeam, createTestUser, testMeta } from "@/test/factories";

type Run = { code: number; stdout: string; stderr: string; opened: number };

// Counts database openings, so tests can tell that bad input is refused before anything is touched.
let opened = 0;
const withTestDb: WithDb = async (fn) => {
  opened += 1;
  return await fn(getDb());
};
const commands = makeIdentityCommands(withTestDb);

async function run(name: string, args: string[]): Promise<Run> {
  const command = commands[name];
  if (!command) throw new Error(`no command ${name}`);
  let stdout = "";
  let stderr = "";
  const io: CliIo = { out: (text) => (stdout += text), err: (text) => (stderr += text) };
  const before = opened;
  const code = await command.run(args, io);
  return { code, stdout, stderr, opened: opened - before };
}

function email(): string {
  return `cli-${randomBytes(5).toString("hex")}@example.test`;
}

const PASSWORD = "correct horse battery staple";

describe("create-user", () => {
  it("creates an account and prints it as JSON, without secrets", async () => {
    const address = email();
    const result = await run("create-user", ["--email", address.toUpperCase(), "--password", PASSWORD, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const user = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(user).toMatchObject({ email: address, name: null });
    expect(Object.keys(user).sort()).toEqual(["email", "id", "isAdmin", "name"]);
    const row = await getDb().user.findUniqueOrThrow({ where: { id: String(user.id) } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(result.stdout).not.toContain(PASSWORD);
    await expect(
      authenticateWithPassword(getDb(), { email: address, password: PASSWORD, ip: null }),
    ).resolves.toMatchObject({ id: row.id });
  });

  it("prints readable lines without --json, and honours --name and --admin", async () => {
    const result = await run("create-user", ["--email", email(), "--password", PASSWORD, "--name", "Ada", "--admin"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Created user\n/);
    expect(result.stdout).toMatch(/ {2}id: +[0-9a-f-]{36}\n/);
    expect(result.stdout).toContain("name:  Ada");
    expect(result.stdout).toContain("admin: yes");
  });

  it("answers an existing email with exit 1 and the message", async () => {
    const existing = await createTestUser();
    const result = await run("create-user", ["--email", existing.email, "--password", PASSWORD]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("An account with this email already exists");
    expect(result.stdout).toBe("");
  });

  it.each([
    ["a bad email", ["--email", "nope", "--password", PASSWORD], "--email: Enter a valid email address."],
    ["a short password", ["--email", "short@example.test", "--password", "short"], "--password: Use at least"],
    ["a missing password", ["--email", "missing@example.test"], "--password: required"],
    [
      "a control character in the name",
      ["--email", "c@example.test", "--password", PASSWORD, "--name", "a\u0007"],
      "--name",
    ],
    ["an unknown option", ["--email", "u@example.test", "--password", PASSWORD, "--role", "owner"], "Unknown option"],
    ["a positional argument", ["--email", "p@example.test", "--password", PASSWORD, "extra"], "extra"],
  ])("refuses %s with exit 2 before touching the database", async (_name, args, message) => {
    const result = await run("create-user", args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain("usage: npm run manage -- create-user");
    expect(result.opened).toBe(0);
  });
});

describe("create-team", () => {
  it("creates a team owned by the account, with its audit row", async () => {
    const owner = await createTestUser();
    const result = await run("create-team", ["--name", "Platform Crew", "--owner", owner.email, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const team = JSON.parse(result.stdout) as { id: string; name: string; slug: string; owner: { id: string } };
    expect(team).toMatchObject({ name: "Platform Crew", owner: { id: owner.id, email: owner.email } });
    expect(team.slug).toMatch(/^platform-crew-[0-9a-f]{6}$/);
    const membership = await getDb().membership.findFirstOrThrow({ where: { teamId: team.id } });
    expect(membership).toMatchObject({ userId: owner.id, role: "owner" });
    const audit = await getDb().auditEvent.findMany({ where: { teamId: team.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "team.created",
      actorId: owner.id,
      userAgent: "tussilago-manage create-team",
    });
  });

  it("answers an unknown owner with exit 1", async () => {
    const result = await run("create-team", ["--name", "Nobody's", "--owner", email()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("No account has the email");
  });

  it("refuses a missing or invalid name with exit 2", async () => {
    const owner = await createTestUser();
    const missing = await run("create-team", ["--owner", owner.email]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--name: required");
    const blank = await run("create-team", ["--name", "   ", "--owner", owner.email]);
    expect(blank.code).toBe(2);
    expect(blank.opened).toBe(0);
  });
});

describe("create-token", () => {
  it("prints the token once; it authenticates for the team; only its hash is stored; the CLI is audited", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const result = await run("create-token", ["--team", team.id, "--name", "ci", "--scopes", "read,write", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const created = JSON.parse(result.stdout) as { id: string; token: string; scopes: string[]; teamId: string };
    expect(created).toMatchObject({ teamId: team.id, name: "ci", scopes: ["read", "write"] });
    expect(created.token).toMatch(/^tsl_/);

    const ctx = await authenticateApiToken(getDb(), created.token, testMeta());
    expect(ctx).toMatchObject({ teamId: team.id, role: "admin", actor: { type: "token", tokenId: created.id } });
    const row = await getDb().apiToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.tokenHash).toBe(sha256(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);

    const audit = await getDb().auditEvent.findFirstOrThrow({
      where: { teamId: team.id, action: "api_token.created" },
    });
    expect(audit).toMatchObject({ actorType: "user", actorId: owner.id, actorLabel: "manage create-token" });
    expect(JSON.stringify(audit)).not.toContain(created.token);
  });

  it("makes an operator token (no creator) that outlives the owner it was audited as", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const result = await run("create-token", ["--team", team.id, "--name", "ci", "--scopes", "read,write", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const created = JSON.parse(result.stdout) as { id: string; token: string };
    expect((await getDb().apiToken.findUniqueOrThrow({ where: { id: created.id } })).createdBy).toBeNull();

    // The owner hands the team over and leaves: the operator's token is not theirs and keeps working.
    await getDb().membership.updateMany({ where: { teamId: team.id, userId: owner.id }, data: { role: "viewer" } });
    expect((await authenticateApiToken(getDb(), created.token, testMeta())).role).toBe("admin");
    await getDb().membership.deleteMany({ where: { teamId: team.id, userId: owner.id } });
    expect((await authenticateApiToken(getDb(), created.token, testMeta())).role).toBe("admin");
  });

  it("makes read-only tokens, and says in readable mode that the token is shown once", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const result = await run("create-token", ["--team", team.id, "--name", "dashboards", "--scopes", "read"]);
    expect(result.code, result.stderr).toBe(0);
    const token = /token: +(tsl_\S+)/.exec(result.stdout)?.[1] ?? "";
    expect(result.stdout).toContain("shown only this once");
    const ctx = await authenticateApiToken(getDb(), token, testMeta());
    expect(ctx.role).toBe("viewer");
  });

  it("answers an unknown team or one being deleted with exit 1", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    await getDb().team.update({ where: { id: team.id }, data: { status: "deleting" } });
    for (const id of [team.id, "00000000-0000-4000-8000-000000000000"]) {
      const result = await run("create-token", ["--team", id, "--name", "ci", "--scopes", "read"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("No active team");
    }
    expect(await getDb().apiToken.count({ where: { teamId: team.id } })).toBe(0);
  });

  it.each([
    [["--team", "not-a-uuid", "--name", "ci", "--scopes", "read"], "--team"],
    [["--team", "00000000-0000-4000-8000-000000000000", "--name", "ci", "--scopes", "admin"], "--scopes"],
    [["--team", "00000000-0000-4000-8000-000000000000", "--name", "ci", "--scopes", ""], "--scopes"],
    [["--team", "00000000-0000-4000-8000-000000000000", "--name", "ci"], "--scopes: required"],
  ])("refuses %j with exit 2", async (args, message) => {
    const result = await run("create-token", args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.opened).toBe(0);
  });
});

describe("reset-password", () => {
  it("prints a single-use link, leaves the password alone until it is used, and the link works once", async () => {
    const user = await createTestUser({ password: PASSWORD });
    const before = await getDb().user.findUniqueOrThrow({ where: { id: user.id } });
    const result = await run("reset-password", ["--email", user.email, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as { userId: string; email: string; link: string; expiresAt: string };
    expect(body).toMatchObject({ userId: user.id, email: user.email });
    expect(body.link).toMatch(/\/reset-password\/[A-Za-z0-9_-]{43}$/);
    expect(result.stderr).toContain("The password is unchanged until the link is used");

    const after = await getDb().user.findUniqueOrThrow({ where: { id: user.id } });
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.sessionVersion).toBe(before.sessionVersion);
    const token = body.link.split("/").at(-1) ?? "";
    const stored = await getDb().verificationToken.findMany({ where: { identifier: user.email } });
    expect(stored.map((row) => row.tokenHash)).toEqual([sha256(token)]);

    await resetPassword(getDb(), { token, newPassword: "a brand new passphrase" });
    await expect(resetPassword(getDb(), { token, newPassword: "and another one here" })).rejects.toThrow(/invalid/);
  });

  it("prints readable lines with the note", async () => {
    const user = await createTestUser();
    const result = await run("reset-password", ["--email", user.email]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("/reset-password/");
    expect(result.stdout).toContain("The password is unchanged until the link is used");
  });

  it("answers an unknown email with exit 1 and a bad one with exit 2", async () => {
    const unknown = await run("reset-password", ["--email", email()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No account has the email");
    const bad = await run("reset-password", ["--email", "@"]);
    expect(bad.code).toBe(2);
  });
});

describe("through scripts/manage.ts", () => {
  type Result = { code: number | null; stdout: string; stderr: string };

  function manage(args: string[]): Promise<Result> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "scripts/manage.ts", ...args],
        {
          env: {
            NODE_ENV: "test",
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            LOG_LEVEL: "silent",
            TUSSILAGO_SECRET_KEY: "k".repeat(40),
            DATABASE_URL: getEnv().databaseUrl,
            TUSSILAGO_DATA_DIR: getEnv().dataDir,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
        },
      );
    });
  }

  it("creates a user, a team and a token with --json, each one JSON object with an id", async () => {
    const address = email();
    const user = await manage(["create-user", "--email", address, "--password", PASSWORD, "--json"]);
    expect(user.code, user.stderr).toBe(0);
    const userJson = JSON.parse(user.stdout) as { id: string };

    const team = await manage(["create-team", "--name", "Spawned", "--owner", address, "--json"]);
    expect(team.code, team.stderr).toBe(0);
    const teamJson = JSON.parse(team.stdout) as { id: string; owner: { id: string } };
    expect(teamJson.owner.id).toBe(userJson.id);

    const token = await manage(["create-token", "--team", teamJson.id, "--name", "ci", "--scopes", "write", "--json"]);
    expect(token.code, token.stderr).toBe(0);
    const tokenJson = JSON.parse(token.stdout) as { id: string; token: string };
    const ctx = await authenticateApiToken(getDb(), tokenJson.token, testMeta());
    expect(ctx.teamId).toBe(teamJson.id);
  });

  it("exits 2 on bad input and 1 on a conflict, with the message on stderr", async () => {
    const bad = await manage(["create-user", "--email", "nope", "--password", PASSWORD, "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("--email: Enter a valid email address.");

    const existing = await createTestUser();
    const conflict = await manage(["create-user", "--email", existing.email, "--password", PASSWORD]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain("already exists");
  });

  it("lists the new commands in help", async () => {
    const help = await manage(["help"]);
    expect(help.code).toBe(0);
    for (const name of ["create-user", "create-team", "create-token", "reset-password"]) {
      expect(help.stdout).toContain(name);
    }
  });
});
