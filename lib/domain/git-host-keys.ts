// The SSH host keys pinned for an app's git server. The worker records them (shipped forge keys confirmed at once,
// any other host's keys unconfirmed at first use: lib/engine/build/git-access.ts); a clone trusts only confirmed
// keys, so a person compares the fingerprint with the server's own and confirms it here. Removing a key lets the
// next clone record the server's current keys again (after a deliberate key change on the server).
import type { Db } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { AppError } from "@/lib/errors";
import type { GitHostKey } from "@/lib/generated/prisma/client";

/** Far more than any server presents (one per key type); bounds the list. */
const MAX_HOST_KEYS_LISTED = 200;

export type GitHostKeyView = {
  id: string;
  appId: string;
  host: string;
  port: number;
  keyType: string;
  publicKey: string;
  fingerprint: string;
  source: GitHostKey["source"];
  confirmed: boolean;
  confirmedAt: Date | null;
  createdAt: Date;
};

export function gitHostKeyView(row: GitHostKey): GitHostKeyView {
  return {
    id: row.id,
    appId: row.appId,
    host: row.host,
    port: row.port,
    keyType: row.keyType,
    publicKey: `${row.keyType} ${row.publicKey}`,
    fingerprint: row.fingerprint,
    source: row.source,
    confirmed: row.confirmedAt !== null,
    confirmedAt: row.confirmedAt,
    createdAt: row.createdAt,
  };
}

export async function listGitHostKeys(db: Db, ctx: Ctx, appId: string): Promise<GitHostKeyView[]> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      gitHostKeys: { orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: MAX_HOST_KEYS_LISTED },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return app.gitHostKeys.map(gitHostKeyView);
}

async function hostKeyOfTeam(db: Db, ctx: Ctx, id: string): Promise<GitHostKey> {
  const row = await db.gitHostKey.findFirst({ where: { id, app: { teamId: ctx.teamId } } });
  if (!row) throw new AppError("not_found", "Host key not found.");
  return row;
}

/** Trusts the key for this app's clones from its host and port. Confirming a confirmed key changes nothing. */
export async function confirmGitHostKey(db: Db, ctx: Ctx, id: string): Promise<GitHostKeyView> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const row = await tx.gitHostKey.findFirst({ where: { id, app: { teamId: ctx.teamId } } });
    if (!row) throw new AppError("not_found", "Host key not found.");
    if (row.confirmedAt !== null) return gitHostKeyView(row);
    const updated = await tx.gitHostKey.update({
      where: { id },
      data: { confirmedAt: new Date(), confirmedBy: actorUserId(ctx) },
    });
    await recordAudit(tx, ctx, {
      action: "git_host_key.confirmed",
      target: { type: "app", id: row.appId },
      metadata: { host: row.host, port: row.port, fingerprint: row.fingerprint },
    });
    return gitHostKeyView(updated);
  });
}

export async function deleteGitHostKey(db: Db, ctx: Ctx, id: string): Promise<void> {
  authorize(ctx, "apps:write");
  const row = await hostKeyOfTeam(db, ctx, id);
  await db.$transaction(async (tx) => {
    await tx.gitHostKey.deleteMany({ where: { id: row.id } });
    await recordAudit(tx, ctx, {
      action: "git_host_key.deleted",
      target: { type: "app", id: row.appId },
      metadata: { host: row.host, port: row.port, fingerprint: row.fingerprint },
    });
  });
}
