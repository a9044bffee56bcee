// An app's SSH deploy key for cloning a private repository: create or rotate, show (public half only), delete. The
// key pair is made here (ed25519, node:crypto); the private half is written in the OpenSSH format by sshpk (OpenSSH
// 9.2, Debian 12's, does not read PKCS#8 ed25519 keys) and sealed bound to the app, so it opens only for this app's
// clones in the worker (lib/engine/build/git-access.ts). It never appears in an answer, a log or the audit.
import { generateKeyPairSync } from "node:crypto";
import sshpk from "sshpk";
import { encryptBound } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { AppError } from "@/lib/errors";

export type DeployKeyView = { publicKey: string; fingerprint: string; createdAt: Date };

export function deployKeyBinding(appId: string): string[] {
  return ["deploy-key", appId];
}

/** A new ed25519 key pair: the OpenSSH public key line (with the comment), the OpenSSH private key, the fingerprint. */
export function generateDeployKey(comment: string): { publicKey: string; privateKey: string; fingerprint: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const key = sshpk.parsePrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "pem");
  key.comment = comment;
  const publicKey = key.toPublic();
  publicKey.comment = comment;
  return {
    publicKey: publicKey.toString("ssh").trim(),
    privateKey: key.toString("ssh"),
    // sshpk prints "SHA256:<base64 without padding>", as ssh-keygen -lf does.
    fingerprint: publicKey.fingerprint("sha256").toString(),
  };
}

async function appOfTeam(tx: Db | Tx, ctx: Ctx, appId: string) {
  const app = await tx.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: { id: true, name: true, status: true },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  return app;
}

/** Creates the app's deploy key, or replaces it (the old key stops working once removed from the forge). */
export async function createOrRotateDeployKey(
  db: Db,
  ctx: Ctx,
  appId: string,
): Promise<{ deployKey: DeployKeyView; rotated: boolean }> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "App" WHERE id = ${appId}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
    const app = await appOfTeam(tx, ctx, appId);
    if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
    const generated = generateDeployKey(`tussilago-${app.name}`);
    const data = {
      publicKey: generated.publicKey,
      fingerprint: generated.fingerprint,
      privateKeySealed: encryptBound(generated.privateKey, deployKeyBinding(appId)),
      createdBy: actorUserId(ctx),
      createdAt: new Date(),
    };
    const existing = await tx.deployKey.findUnique({ where: { appId }, select: { id: true } });
    const row = existing
      ? await tx.deployKey.update({ where: { appId }, data })
      : await tx.deployKey.create({ data: { ...data, appId } });
    await recordAudit(tx, ctx, {
      action: existing ? "deploy_key.rotated" : "deploy_key.created",
      target: { type: "app", id: appId },
      metadata: { fingerprint: row.fingerprint },
    });
    return {
      deployKey: { publicKey: row.publicKey, fingerprint: row.fingerprint, createdAt: row.createdAt },
      rotated: existing !== null,
    };
  });
}

export async function getDeployKey(db: Db, ctx: Ctx, appId: string): Promise<DeployKeyView> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: { deployKey: { select: { publicKey: true, fingerprint: true, createdAt: true } } },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  if (!app.deployKey) throw new AppError("not_found", "This app has no deploy key.");
  return app.deployKey;
}

export async function deleteDeployKey(db: Db, ctx: Ctx, appId: string): Promise<void> {
  authorize(ctx, "apps:write");
  await db.$transaction(async (tx) => {
    await appOfTeam(tx, ctx, appId);
    const { count } = await tx.deployKey.deleteMany({ where: { appId } });
    if (count === 0) throw new AppError("not_found", "This app has no deploy key.");
    await recordAudit(tx, ctx, { action: "deploy_key.deleted", target: { type: "app", id: appId } });
  });
}
