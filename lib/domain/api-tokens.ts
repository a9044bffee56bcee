// Team API tokens: shown once with a tsl_ prefix, stored as SHA-256, scopes read or read+write, optional expiry,
// last-used time, revocation. A token is bound to the member who created it: it acts with the lower of its scope's
// role and that member's current role, and it stops working when they leave or are removed (lib/domain/members.ts
// revokes them). Tokens without a creator were made on the command line by the instance operator (below).

import { lowerRole } from "@/lib/auth/permissions";
import { looksLikeApiToken, newApiToken, sha256 } from "@/lib/auth/tokens";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx, type RequestMeta, type Scope } from "@/lib/domain/context";
import { decodeCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { AppError } from "@/lib/errors";
import { type ApiToken, Prisma, type Role } from "@/lib/generated/prisma/client";

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Who created a token. `label` is what a person reads: the creator's name, else their email; "deleted user" when
 * the account is gone; "command line" for operator tokens (`manage create-token`), which have no creator.
 */
export type TokenCreatorView = { userId: string | null; name: string | null; email: string | null; label: string };

export type ApiTokenView = {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  createdBy: TokenCreatorView;
};

type CreatorRow = { id: string; name: string | null; email: string } | null;

function creatorView(createdBy: string | null, creator: CreatorRow): TokenCreatorView {
  if (creator)
    return { userId: creator.id, name: creator.name, email: creator.email, label: creator.name ?? creator.email };
  return { userId: null, name: null, email: null, label: createdBy ? "deleted user" : "command line" };
}

function toScopes(scopes: string[]): Scope[] {
  return scopes.filter((scope): scope is Scope => scope === "read" || scope === "write");
}

export function apiTokenView(token: ApiToken, creator: CreatorRow): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    scopes: toScopes(token.scopes),
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
    createdAt: token.createdAt,
    createdBy: creatorView(token.createdBy, creator),
  };
}

/**
 * The person a new token is bound to: the signed-in user, or for a token made with a token, that token's creator
 * (a token must not mint tokens that outlive the person behind it). Null only for the operator's command line.
 */
async function creatorFor(tx: Tx, ctx: Ctx, operator: boolean): Promise<string | null> {
  if (operator) return null;
  if (ctx.actor.type === "user") return ctx.actor.userId;
  const parent = await tx.apiToken.findUnique({ where: { id: ctx.actor.tokenId }, select: { createdBy: true } });
  return parent?.createdBy ?? null;
}

async function creatorOf(tx: Db | Tx, createdBy: string | null): Promise<CreatorRow> {
  if (!createdBy) return null;
  return await tx.user.findUnique({ where: { id: createdBy }, select: { id: true, name: true, email: true } });
}

/**
 * `operator` is for `manage create-token` only (never reachable from a request): the token has no creator and
 * keeps its scope's role, as the instance operator, who holds the database and the secret key, stands behind it.
 */
export async function createApiToken(
  db: Db,
  ctx: Ctx,
  input: { name: string; scopes: Scope[]; expiresAt?: Date | null },
  options: { operator?: boolean } = {},
): Promise<{ apiToken: ApiTokenView; token: string }> {
  authorize(ctx, "tokens:manage");
  if (input.expiresAt && input.expiresAt <= new Date()) {
    throw new AppError("invalid", "The expiry must be in the future.", {
      details: [{ path: "expiresAt", message: "in the past" }],
    });
  }
  const { token, hash, prefix } = newApiToken();
  return await db.$transaction(async (tx) => {
    const createdBy = await creatorFor(tx, ctx, options.operator === true);
    const created = await tx.apiToken.create({
      data: {
        teamId: ctx.teamId,
        name: input.name,
        prefix,
        tokenHash: hash,
        scopes: input.scopes,
        expiresAt: input.expiresAt ?? null,
        createdBy,
      },
    });
    await recordAudit(tx, ctx, {
      action: "api_token.created",
      target: { type: "api_token", id: created.id },
      metadata: { name: created.name, scopes: created.scopes },
    });
    return { apiToken: apiTokenView(created, await creatorOf(tx, createdBy)), token };
  });
}

type ListedRow = ApiToken & { creatorId: string | null; creatorName: string | null; creatorEmail: string | null };

/** One query per page: createdBy is a plain column (no foreign key, so a deleted account leaves it), joined here. */
export async function listApiTokens(db: Db, ctx: Ctx, page: PageInput): Promise<Page<ApiTokenView>> {
  authorize(ctx, "tokens:read");
  const after = decodeCursor(page.cursor);
  const afterClause = after
    ? Prisma.sql`AND (t."createdAt" < ${after.createdAt} OR (t."createdAt" = ${after.createdAt} AND t.id < ${after.id}::uuid))`
    : Prisma.empty;
  const rows = await db.$queryRaw<ListedRow[]>`
    SELECT t.*, u.id AS "creatorId", u.name AS "creatorName", u.email AS "creatorEmail"
    FROM "ApiToken" t LEFT JOIN "User" u ON u.id = t."createdBy"
    WHERE t."teamId" = ${ctx.teamId}::uuid ${afterClause}
    ORDER BY t."createdAt" DESC, t.id DESC
    LIMIT ${page.limit + 1}`;
  return toPage(rows, page.limit, (row) =>
    apiTokenView(
      row,
      row.creatorId && row.creatorEmail ? { id: row.creatorId, name: row.creatorName, email: row.creatorEmail } : null,
    ),
  );
}

export async function revokeApiToken(db: Db, ctx: Ctx, input: { tokenId: string }): Promise<ApiTokenView> {
  authorize(ctx, "tokens:manage");
  return await db.$transaction(async (tx) => {
    const existing = await tx.apiToken.findFirst({ where: { id: input.tokenId, teamId: ctx.teamId } });
    if (!existing) throw new AppError("not_found", "API token not found.");
    const creator = await creatorOf(tx, existing.createdBy);
    if (existing.revokedAt) return apiTokenView(existing, creator);
    const revoked = await tx.apiToken.update({ where: { id: existing.id }, data: { revokedAt: new Date() } });
    await recordAudit(tx, ctx, {
      action: "api_token.revoked",
      target: { type: "api_token", id: existing.id },
      metadata: { name: existing.name },
    });
    return apiTokenView(revoked, creator);
  });
}

/**
 * Revokes every live token `userId` created in the team, with one audit event per token; called in the
 * transaction that removes the membership, so no token outlives it.
 */
export async function revokeTokensOfCreator(
  tx: Tx,
  ctx: Ctx,
  input: { userId: string; reason: "creator_removed" | "creator_left" },
): Promise<number> {
  const revoked = await tx.apiToken.updateManyAndReturn({
    where: { teamId: ctx.teamId, createdBy: input.userId, revokedAt: null },
    data: { revokedAt: new Date() },
    select: { id: true, name: true },
  });
  for (const token of revoked) {
    await recordAudit(tx, ctx, {
      action: "api_token.revoked",
      target: { type: "api_token", id: token.id },
      metadata: { name: token.name, reason: input.reason },
    });
  }
  return revoked.length;
}

type AuthRow = {
  id: string;
  teamId: string;
  name: string;
  scopes: string[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdBy: string | null;
  teamStatus: string;
  creatorRole: Role | null;
};

/** The role a token acts with: its scope's (read → viewer, write → admin), capped by its creator's current role. */
export function tokenRole(scopes: Scope[], creator: { createdBy: string | null; role: Role | null }): Role | null {
  const scopeRole: Role = scopes.includes("write") ? "admin" : "viewer";
  if (creator.createdBy === null) return scopeRole;
  return creator.role ? lowerRole(scopeRole, creator.role) : null;
}

/**
 * Resolves a bearer token to its team context, with its creator's membership in the same query (re-read on every
 * request, so a demotion applies at once). Read tokens act as viewers, write tokens as admins (never owners), both
 * capped by the creator's current role. Missing, malformed, unknown, revoked and expired tokens, and tokens whose
 * creator is no longer a member of the team, all read the same: 401.
 */
export async function authenticateApiToken(db: Db, raw: string | null, meta: RequestMeta): Promise<Ctx> {
  const unauthenticated = new AppError(
    "unauthenticated",
    "A valid API token is required (Authorization: Bearer tsl_...).",
  );
  if (!raw || !looksLikeApiToken(raw)) throw unauthenticated;
  const [token] = await db.$queryRaw<AuthRow[]>`
    SELECT t.id, t."teamId", t.name, t.scopes, t."expiresAt", t."lastUsedAt", t."revokedAt", t."createdBy",
           team.status::text AS "teamStatus", m.role AS "creatorRole"
    FROM "ApiToken" t
    JOIN "Team" team ON team.id = t."teamId"
    LEFT JOIN "Membership" m ON m."teamId" = t."teamId" AND m."userId" = t."createdBy"
    WHERE t."tokenHash" = ${sha256(raw)}`;
  const now = new Date();
  if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || token.teamStatus !== "active") {
    throw unauthenticated;
  }
  const scopes = toScopes(token.scopes);
  const role = tokenRole(scopes, { createdBy: token.createdBy, role: token.creatorRole });
  if (!role) throw unauthenticated;
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  }
  return { actor: { type: "token", tokenId: token.id, label: token.name, scopes }, teamId: token.teamId, role, meta };
}
