// Team API tokens: shown once with a tsl_ prefix, stored as SHA-256, scopes read or read+write, optional expiry,
// last-used time, revocation.

import { looksLikeApiToken, newApiToken, sha256 } from "@/lib/auth/tokens";
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx, type RequestMeta, type Scope } from "@/lib/domain/context";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { AppError } from "@/lib/errors";
import type { ApiToken } from "@/lib/generated/prisma/client";

const LAST_USED_RESOLUTION_MS = 60_000;

export type ApiTokenView = {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
};

function toScopes(scopes: string[]): Scope[] {
  return scopes.filter((scope): scope is Scope => scope === "read" || scope === "write");
}

export function apiTokenView(token: ApiToken): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    scopes: toScopes(token.scopes),
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
    createdAt: token.createdAt,
  };
}

export async function createApiToken(
  db: Db,
  ctx: Ctx,
  input: { name: string; scopes: Scope[]; expiresAt?: Date | null },
): Promise<{ apiToken: ApiTokenView; token: string }> {
  authorize(ctx, "tokens:manage");
  if (input.expiresAt && input.expiresAt <= new Date()) {
    throw new AppError("invalid", "The expiry must be in the future.", {
      details: [{ path: "expiresAt", message: "in the past" }],
    });
  }
  const { token, hash, prefix } = newApiToken();
  return await db.$transaction(async (tx) => {
    const created = await tx.apiToken.create({
      data: {
        teamId: ctx.teamId,
        name: input.name,
        prefix,
        tokenHash: hash,
        scopes: input.scopes,
        expiresAt: input.expiresAt ?? null,
        createdBy: actorUserId(ctx),
      },
    });
    await recordAudit(tx, ctx, {
      action: "api_token.created",
      target: { type: "api_token", id: created.id },
      metadata: { name: created.name, scopes: created.scopes },
    });
    return { apiToken: apiTokenView(created), token };
  });
}

export async function listApiTokens(db: Db, ctx: Ctx, page: PageInput): Promise<Page<ApiTokenView>> {
  authorize(ctx, "tokens:read");
  const rows = await db.apiToken.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, apiTokenView);
}

export async function revokeApiToken(db: Db, ctx: Ctx, input: { tokenId: string }): Promise<ApiTokenView> {
  authorize(ctx, "tokens:manage");
  return await db.$transaction(async (tx) => {
    const existing = await tx.apiToken.findFirst({ where: { id: input.tokenId, teamId: ctx.teamId } });
    if (!existing) throw new AppError("not_found", "API token not found.");
    if (existing.revokedAt) return apiTokenView(existing);
    const revoked = await tx.apiToken.update({ where: { id: existing.id }, data: { revokedAt: new Date() } });
    await recordAudit(tx, ctx, {
      action: "api_token.revoked",
      target: { type: "api_token", id: existing.id },
      metadata: { name: existing.name },
    });
    return apiTokenView(revoked);
  });
}

/**
 * Resolves a bearer token to its team context. Read tokens act as viewers; write tokens as admins (never owners).
 * Missing, malformed, unknown, revoked and expired tokens all read the same: 401.
 */
export async function authenticateApiToken(db: Db, raw: string | null, meta: RequestMeta): Promise<Ctx> {
  const unauthenticated = new AppError(
    "unauthenticated",
    "A valid API token is required (Authorization: Bearer tsl_...).",
  );
  if (!raw || !looksLikeApiToken(raw)) throw unauthenticated;
  const token = await db.apiToken.findUnique({
    where: { tokenHash: sha256(raw) },
    include: { team: { select: { status: true } } },
  });
  const now = new Date();
  if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || token.team.status !== "active") {
    throw unauthenticated;
  }
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  }
  const scopes = toScopes(token.scopes);
  return {
    actor: { type: "token", tokenId: token.id, label: token.name, scopes },
    teamId: token.teamId,
    role: scopes.includes("write") ? "admin" : "viewer",
    meta,
  };
}
