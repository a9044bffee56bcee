// An app's read token for cloning a private repository over HTTPS (forges without deploy keys, or by choice). The
// token is sealed bound to the app and opened only by the worker, which hands it to git as an Authorization header
// through the environment (lib/build/source-git/https-auth.ts); it never appears in an answer, a log or the audit.
import { encryptBound } from "@/lib/crypto";
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { AppError } from "@/lib/errors";

export const DEFAULT_GIT_TOKEN_USERNAME = "git";

export type GitTokenView = { username: string; createdAt: Date };

export function gitTokenBinding(appId: string): string[] {
  return ["git-token", appId];
}

/** Stores (or replaces) the token. Input is validated by the endpoint schema (printable, no spaces, bounded). */
export async function setGitToken(
  db: Db,
  ctx: Ctx,
  appId: string,
  input: { username?: string | undefined; token: string },
): Promise<GitTokenView> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
    const app = await tx.app.findFirst({ where: { id: appId, teamId: ctx.teamId }, select: { status: true } });
    if (!app) throw new AppError("not_found", "App not found.");
    if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
    const data = {
      tokenSealed: encryptBound(input.token, gitTokenBinding(appId)),
      username: input.username ?? null,
      createdBy: actorUserId(ctx),
      createdAt: new Date(),
    };
    const row = await tx.gitHttpsToken.upsert({ where: { appId }, create: { ...data, appId }, update: data });
    await recordAudit(tx, ctx, { action: "git_token.set", target: { type: "app", id: appId } });
    return { username: row.username ?? DEFAULT_GIT_TOKEN_USERNAME, createdAt: row.createdAt };
  });
}

export async function deleteGitToken(db: Db, ctx: Ctx, appId: string): Promise<void> {
  authorize(ctx, "apps:write");
  await db.$transaction(async (tx) => {
    const app = await tx.app.findFirst({ where: { id: appId, teamId: ctx.teamId }, select: { id: true } });
    if (!app) throw new AppError("not_found", "App not found.");
    const { count } = await tx.gitHttpsToken.deleteMany({ where: { appId } });
    if (count === 0) throw new AppError("not_found", "This app has no git token.");
    await recordAudit(tx, ctx, { action: "git_token.deleted", target: { type: "app", id: appId } });
  });
}

/** Whether the app has a read token (and the user name sent with it), for the Git tab; the token is never read. */
export async function getGitToken(db: Db, ctx: Ctx, appId: string): Promise<GitTokenView | null> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: { gitHttpsToken: { select: { username: true, createdAt: true } } },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  const row = app.gitHttpsToken;
  return row ? { username: row.username ?? DEFAULT_GIT_TOKEN_USERNAME, createdAt: row.createdAt } : null;
}
