// API tokens: shown once, stored as SHA-256, and authenticateApiToken's one answer (401) for everything not valid.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { looksLikeApiToken, newApiToken, sha256 } from "@/lib/auth/tokens";
import { getDb } from "@/lib/db";
import {
  type ApiTokenView,
  authenticateApiToken,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "@/lib/domain/api-tokens";
import { type Ctx, type RequestMeta, userContext } from "@/lib/domain/context";
import { AppError, type ErrorCode } from "@/lib/errors";

function meta(): RequestMeta {
  return { requestId: randomUUID(), ip: "192.0.2.55", userAgent: "api-tokens-test" };
}

async function expectAppError(promise: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  if (!(error instanceof AppError)) throw new Error("expected an AppError");
  expect(error.code).toBe(code);
  return error;
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
