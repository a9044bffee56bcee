// API tokens: shown once, stored as SHA-256, and authenticateApiToken's one answer (401) for everything not valid.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { looksLikeApiToken, newApiToken, sha256 } from "@/lib/auth/tokens";
import { countQueries } from "@/lib/database/query-counter";
import { getDb } from "@/lib/db";
import {
  type ApiTokenView,
  authenticateApiToken,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "@/lib/domain/api-tokens";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import { changeMemberRole, removeMember } from "@/lib/domain/members";
import { AppError } from "@/lib/errors";
import { expectAppError } from "@/test/errors";
import { addMember, createTestToken, createTestUser } from "@/test/factories";

function meta(): RequestMeta {
  return { requestId: randomUUID(), ip: "192.0.2.55", userAgent: "api-tokens-test" };
}

async function newTeam(): Promise<{ teamId: string; ctx: Ctx }> {
  const db = getDb();
  const owner = await db.user.create({ data: { email: `owner-${randomUUID().slice(0, 12)}@example.test` } });
  const team = await db.team.create({ data: { name: "Token Co", slug: `token-${randomUUID()}` } });
  await db.membership.create({ data: { teamId: team.id, userId: owner.id, role: "owner" } });
  return { teamId: team.id, ctx: await userContext(db, owner.id, team.id, meta()) };
}

const VIEW_KEYS: (keyof ApiTokenView)[] = [
  "id",
  "name",
  "prefix",
  "scopes",
  "expiresAt",
  "lastUsedAt",
  "revokedAt",
  "createdAt",
  "createdBy",
];

describe("createApiToken", () => {
  it("shows the token once, with the tsl_ prefix, and stores only its SHA-256", async () => {
    const { ctx, teamId } = await newTeam();
    const { apiToken, token } = await createApiToken(getDb(), ctx, { name: "deploy bot", scopes: ["read", "write"] });
    expect(token.startsWith("tsl_")).toBe(true);
    expect(looksLikeApiToken(token)).toBe(true);
    expect(Object.keys(apiToken).sort()).toEqual([...VIEW_KEYS].sort());
    expect(apiToken).toMatchObject({ name: "deploy bot", prefix: token.slice(0, 12), scopes: ["read", "write"] });

    const row = await getDb().apiToken.findUniqueOrThrow({ where: { id: apiToken.id } });
    expect(row.tokenHash).toBe(sha256(token));
    expect(row.teamId).toBe(teamId);
    expect(JSON.stringify(row)).not.toContain(token);
    expect(JSON.stringify(row)).not.toContain(token.slice(12));

    // Shown once: nothing the team can read later holds the token or its hash.
    const listed = await listApiTokens(getDb(), ctx, { limit: 50 });
    expect(listed.items.map((item) => item.id)).toEqual([apiToken.id]);
    const serialized = JSON.stringify(listed);
    expect(serialized).not.toContain(token);
    expect(serialized).not.toContain(row.tokenHash);
    const audit = JSON.stringify(await getDb().auditEvent.findMany({ where: { teamId } }));
    expect(audit).not.toContain(token);
    expect(audit).not.toContain(row.tokenHash);
  });

  it("refuses an expiry in the past and stores nothing", async () => {
    const { ctx, teamId } = await newTeam();
    const error = await expectAppError(
      createApiToken(getDb(), ctx, { name: "old", scopes: ["read"], expiresAt: new Date(Date.now() - 1000) }),
      "invalid",
    );
    expect(error.details).toEqual([expect.objectContaining({ path: "expiresAt" })]);
    expect(await getDb().apiToken.count({ where: { teamId } })).toBe(0);
  });
});

describe("authenticateApiToken", () => {
  it("turns a read token into a viewer and a write token into an admin of its team", async () => {
    const { ctx, teamId } = await newTeam();
    const read = await createApiToken(getDb(), ctx, { name: "reader", scopes: ["read"] });
    const write = await createApiToken(getDb(), ctx, { name: "writer", scopes: ["read", "write"] });
    const requestMeta = meta();
    const readCtx = await authenticateApiToken(getDb(), read.token, requestMeta);
    expect(readCtx).toEqual({
      actor: { type: "token", tokenId: read.apiToken.id, label: "reader", scopes: ["read"] },
      teamId,
      role: "viewer",
      meta: requestMeta,
    });
    const writeCtx = await authenticateApiToken(getDb(), write.token, meta());
    expect(writeCtx.role).toBe("admin");
    expect(writeCtx.actor).toMatchObject({ type: "token", tokenId: write.apiToken.id, scopes: ["read", "write"] });
  });

  it("records when a token was last used", async () => {
    const { ctx } = await newTeam();
    const { apiToken, token } = await createApiToken(getDb(), ctx, { name: "used", scopes: ["read"] });
    expect(apiToken.lastUsedAt).toBeNull();
    const before = Date.now();
    await authenticateApiToken(getDb(), token, meta());
    const after = Date.now();
    const firstUse = (await getDb().apiToken.findUniqueOrThrow({ where: { id: apiToken.id } })).lastUsedAt;
    expect(firstUse?.getTime()).toBeGreaterThanOrEqual(before);
    expect(firstUse?.getTime()).toBeLessThanOrEqual(after);

    // An old last use is refreshed.
    const longAgo = new Date(Date.now() - 24 * 3600_000);
    await getDb().apiToken.update({ where: { id: apiToken.id }, data: { lastUsedAt: longAgo } });
    const again = Date.now();
    await authenticateApiToken(getDb(), token, meta());
    const refreshed = (await getDb().apiToken.findUniqueOrThrow({ where: { id: apiToken.id } })).lastUsedAt;
    expect(refreshed?.getTime()).toBeGreaterThanOrEqual(again);
  });

  it("answers every invalid token with the same unauthenticated error", async () => {
    const { ctx, teamId } = await newTeam();
    const db = getDb();
    const revoked = await createApiToken(db, ctx, { name: "revoked", scopes: ["read", "write"] });
    await revokeApiToken(db, ctx, { tokenId: revoked.apiToken.id });
    const expired = await createApiToken(db, ctx, {
      name: "expiring",
      scopes: ["read"],
      expiresAt: new Date(Date.now() + 60_000),
    });
    await db.apiToken.update({ where: { id: expired.apiToken.id }, data: { expiresAt: new Date(Date.now() - 1) } });
    const valid = await createApiToken(db, ctx, { name: "valid", scopes: ["read"] });

    const other = await newTeam();
    const ofDeletingTeam = await createApiToken(db, other.ctx, { name: "doomed", scopes: ["read"] });
    await db.team.update({ where: { id: other.teamId }, data: { status: "deleting" } });
    const gone = await newTeam();
    const ofDeletedTeam = await createApiToken(db, gone.ctx, { name: "gone", scopes: ["read"] });
    await db.team.delete({ where: { id: gone.teamId } });

    const candidates: [string, string | null][] = [
      ["missing", null],
      ["empty", ""],
      ["unknown", newApiToken().token],
      ["malformed", "tsl_short"],
      ["with the Bearer scheme", `Bearer ${valid.token}`],
      ["with a trailing newline", `${valid.token}\n`],
      ["with a character changed", `${valid.token.slice(0, -1)}${valid.token.endsWith("A") ? "B" : "A"}`],
      ["its hash instead", sha256(valid.token)],
      ["revoked", revoked.token],
      ["expired", expired.token],
      ["of a team being deleted", ofDeletingTeam.token],
      ["of a deleted team", ofDeletedTeam.token],
    ];
    const messages = new Set<string>();
    for (const [label, raw] of candidates) {
      const error = await authenticateApiToken(db, raw, meta()).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error, label).toBeInstanceOf(AppError);
      if (error instanceof AppError) {
        expect(error.code, label).toBe("unauthenticated");
        messages.add(error.message);
      }
    }
    expect(messages.size).toBe(1);

    // Refused tokens are not marked as used.
    for (const id of [revoked.apiToken.id, expired.apiToken.id]) {
      expect((await db.apiToken.findUniqueOrThrow({ where: { id } })).lastUsedAt).toBeNull();
    }
    // The valid one still works after all that.
    expect((await authenticateApiToken(db, valid.token, meta())).teamId).toBe(teamId);
  });

  it("accepts a token with a future expiry until then", async () => {
    const { ctx } = await newTeam();
    const { token } = await createApiToken(getDb(), ctx, {
      name: "short-lived",
      scopes: ["read"],
      expiresAt: new Date(Date.now() + 3600_000),
    });
    await expect(authenticateApiToken(getDb(), token, meta())).resolves.toMatchObject({ role: "viewer" });
  });
});

describe("revokeApiToken", () => {
  it("revokes once, audited once, and is idempotent", async () => {
    const { ctx, teamId } = await newTeam();
    const { apiToken, token } = await createApiToken(getDb(), ctx, { name: "temp", scopes: ["read"] });
    const first = await revokeApiToken(getDb(), ctx, { tokenId: apiToken.id });
    expect(first.revokedAt).toBeInstanceOf(Date);
    const second = await revokeApiToken(getDb(), ctx, { tokenId: apiToken.id });
    expect(second.revokedAt).toEqual(first.revokedAt);
    expect(await getDb().auditEvent.count({ where: { teamId, action: "api_token.revoked" } })).toBe(1);
    await expectAppError(authenticateApiToken(getDb(), token, meta()), "unauthenticated");
  });

  it("lets a write token revoke itself, which ends its access", async () => {
    const { ctx } = await newTeam();
    const { apiToken, token } = await createApiToken(getDb(), ctx, { name: "self", scopes: ["read", "write"] });
    const tokenCtx = await authenticateApiToken(getDb(), token, meta());
    await revokeApiToken(getDb(), tokenCtx, { tokenId: apiToken.id });
    await expectAppError(authenticateApiToken(getDb(), token, meta()), "unauthenticated");
  });
});

describe("tokens and their creator's membership", () => {
  /** A team whose owner is `ownerCtx`, and an admin who makes tokens in it. */
  async function teamWithAdmin() {
    const { ctx: ownerCtx, teamId } = await newTeam();
    const admin = await createTestUser({ name: "Ada Admin" });
    const membership = await addMember(teamId, admin.id, "admin");
    const adminCtx = await userContext(getDb(), admin.id, teamId, meta());
    return { teamId, ownerCtx, admin, membership, adminCtx };
  }

  it("revokes the tokens of a removed member in the same transaction, audited, and refuses them", async () => {
    const { teamId, ownerCtx, membership, adminCtx } = await teamWithAdmin();
    const write = await createApiToken(getDb(), adminCtx, { name: "admin ci", scopes: ["read", "write"] });
    const read = await createApiToken(getDb(), adminCtx, { name: "admin dash", scopes: ["read"] });
    const ownerToken = await createApiToken(getDb(), ownerCtx, { name: "owner ci", scopes: ["read", "write"] });

    await removeMember(getDb(), ownerCtx, { membershipId: membership.id });

    for (const raw of [write.token, read.token]) {
      await expectAppError(authenticateApiToken(getDb(), raw, meta()), "unauthenticated");
    }
    const rows = await getDb().apiToken.findMany({ where: { teamId }, orderBy: { name: "asc" } });
    expect(rows.map((row) => [row.name, row.revokedAt !== null])).toEqual([
      ["admin ci", true],
      ["admin dash", true],
      ["owner ci", false],
    ]);
    const events = await getDb().auditEvent.findMany({ where: { teamId, action: "api_token.revoked" } });
    expect(events.map((event) => event.targetId).sort()).toEqual([write.apiToken.id, read.apiToken.id].sort());
    expect(JSON.stringify(events)).not.toContain(write.token);
    expect((await authenticateApiToken(getDb(), ownerToken.token, meta())).role).toBe("admin");
  });

  it("revokes the tokens of a member who leaves", async () => {
    const { teamId, membership, adminCtx } = await teamWithAdmin();
    const { token } = await createApiToken(getDb(), adminCtx, { name: "mine", scopes: ["read", "write"] });
    await removeMember(getDb(), adminCtx, { membershipId: membership.id });
    await expectAppError(authenticateApiToken(getDb(), token, meta()), "unauthenticated");
    expect(await getDb().apiToken.count({ where: { teamId, revokedAt: null } })).toBe(0);
  });

  it("refuses a token whose creator is no longer a member, however the membership went", async () => {
    const { membership, adminCtx } = await teamWithAdmin();
    const { token } = await createApiToken(getDb(), adminCtx, { name: "orphan", scopes: ["read", "write"] });
    await getDb().membership.delete({ where: { id: membership.id } });
    await expectAppError(authenticateApiToken(getDb(), token, meta()), "unauthenticated");
  });

  it("acts with the lower of its scope's role and its creator's current role, re-read on every request", async () => {
    const { ownerCtx, membership, adminCtx } = await teamWithAdmin();
    const write = await createApiToken(getDb(), adminCtx, { name: "writer", scopes: ["read", "write"] });
    const read = await createApiToken(getDb(), adminCtx, { name: "reader", scopes: ["read"] });
    expect((await authenticateApiToken(getDb(), write.token, meta())).role).toBe("admin");
    expect((await authenticateApiToken(getDb(), read.token, meta())).role).toBe("viewer");

    // Demoted to member: the write token does what a member does, and no admin-only thing.
    await changeMemberRole(getDb(), ownerCtx, { membershipId: membership.id, role: "member" });
    const asMember = await authenticateApiToken(getDb(), write.token, meta());
    expect(asMember.role).toBe("member");
    await expectAppError(
      createApiToken(getDb(), asMember, { name: "escalate", scopes: ["read", "write"] }),
      "forbidden",
    );
    await expectAppError(listApiTokens(getDb(), asMember, { limit: 10 }), "forbidden");
    await expectAppError(
      changeMemberRole(getDb(), asMember, { membershipId: membership.id, role: "admin" }),
      "forbidden",
    );

    // Demoted to viewer: read-only, whatever the scope says.
    await changeMemberRole(getDb(), ownerCtx, { membershipId: membership.id, role: "viewer" });
    expect((await authenticateApiToken(getDb(), write.token, meta())).role).toBe("viewer");
    expect((await authenticateApiToken(getDb(), read.token, meta())).role).toBe("viewer");

    // Back to admin: the token follows.
    await changeMemberRole(getDb(), ownerCtx, { membershipId: membership.id, role: "admin" });
    expect((await authenticateApiToken(getDb(), write.token, meta())).role).toBe("admin");
  });

  it("never acts as an owner, even for an owner's token", async () => {
    const { ctx } = await newTeam();
    const { token } = await createApiToken(getDb(), ctx, { name: "owner's", scopes: ["read", "write"] });
    expect((await authenticateApiToken(getDb(), token, meta())).role).toBe("admin");
  });

  it("resolves the token and its creator's membership in one query", async () => {
    const { adminCtx } = await teamWithAdmin();
    const { token } = await createApiToken(getDb(), adminCtx, { name: "counted", scopes: ["read", "write"] });
    await authenticateApiToken(getDb(), token, meta()); // first use writes lastUsedAt
    const { result, count } = await countQueries(() => authenticateApiToken(getDb(), token, meta()));
    expect(result.role).toBe("admin");
    expect(count).toBe(1);
  });

  it("binds a token made by a token to the person behind the first one", async () => {
    const { ownerCtx, membership, adminCtx } = await teamWithAdmin();
    const parent = await createApiToken(getDb(), adminCtx, { name: "parent", scopes: ["read", "write"] });
    const parentCtx = await authenticateApiToken(getDb(), parent.token, meta());
    const child = await createApiToken(getDb(), parentCtx, { name: "child", scopes: ["read", "write"] });
    const row = await getDb().apiToken.findUniqueOrThrow({ where: { id: child.apiToken.id } });
    expect(row.createdBy).toBe(adminCtx.actor.type === "user" ? adminCtx.actor.userId : "?");

    await removeMember(getDb(), ownerCtx, { membershipId: membership.id });
    await expectAppError(authenticateApiToken(getDb(), child.token, meta()), "unauthenticated");
  });

  it("keeps the scope's role for a token made on the command line (no creator)", async () => {
    const { teamId } = await newTeam();
    const write = await createTestToken(teamId, ["read", "write"]);
    const read = await createTestToken(teamId, ["read"]);
    expect((await authenticateApiToken(getDb(), write, meta())).role).toBe("admin");
    expect((await authenticateApiToken(getDb(), read, meta())).role).toBe("viewer");
  });
});

describe("listApiTokens creators", () => {
  it("shows who created each token: a name, else an email, else deleted user or command line", async () => {
    const { ctx, teamId } = await newTeam();
    const named = await createTestUser({ name: "Nadia Named" });
    const unnamed = await createTestUser();
    await addMember(teamId, named.id, "admin");
    await addMember(teamId, unnamed.id, "admin");
    await createApiToken(getDb(), await userContext(getDb(), named.id, teamId, meta()), {
      name: "by named",
      scopes: ["read"],
    });
    await createApiToken(getDb(), await userContext(getDb(), unnamed.id, teamId, meta()), {
      name: "by unnamed",
      scopes: ["read"],
    });
    await createTestToken(teamId, ["read"], { name: "by cli" });
    const ghost = await createApiToken(getDb(), ctx, { name: "by ghost", scopes: ["read"] });
    await getDb().apiToken.update({ where: { id: ghost.apiToken.id }, data: { createdBy: randomUUID() } });

    const listed = await listApiTokens(getDb(), ctx, { limit: 50 });
    const byName = Object.fromEntries(listed.items.map((item) => [item.name, item.createdBy]));
    expect(byName["by named"]).toEqual({
      userId: named.id,
      name: "Nadia Named",
      email: named.email,
      label: "Nadia Named",
    });
    expect(byName["by unnamed"]).toEqual({
      userId: unnamed.id,
      name: null,
      email: unnamed.email,
      label: unnamed.email,
    });
    expect(byName["by cli"]).toEqual({ userId: null, name: null, email: null, label: "command line" });
    expect(byName["by ghost"]).toEqual({ userId: null, name: null, email: null, label: "deleted user" });
  });

  it("lists in a constant number of queries, pages included", async () => {
    const { ctx, teamId } = await newTeam();
    const few = await countQueries(() => listApiTokens(getDb(), ctx, { limit: 2 }));
    for (let i = 0; i < 5; i += 1) {
      const user = await createTestUser();
      await addMember(teamId, user.id, "admin");
      await createApiToken(getDb(), await userContext(getDb(), user.id, teamId, meta()), {
        name: `t${i}`,
        scopes: ["read"],
      });
    }
    const first = await countQueries(() => listApiTokens(getDb(), ctx, { limit: 2 }));
    expect(first.result.items).toHaveLength(2);
    const second = await countQueries(() =>
      listApiTokens(getDb(), ctx, { limit: 2, cursor: first.result.nextCursor ?? undefined }),
    );
    const all = await countQueries(() => listApiTokens(getDb(), ctx, { limit: 50 }));
    expect(all.result.items).toHaveLength(5);
    expect(new Set([few.count, first.count, second.count, all.count])).toEqual(new Set([few.count]));
    expect(few.count).toBe(1);
  });
});
