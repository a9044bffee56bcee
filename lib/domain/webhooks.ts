// An app's push webhook: create or rotate (the secret is answered once), show (never the secret), turn off, and
// the recent deliveries. Receiving a delivery is lib/domain/deliveries.ts.
//
// The URL token (32 random bytes) only routes a delivery to its app and is shown again on every read; the secret
// (32 random bytes) is what every delivery must prove, sealed at rest bound to the webhook's id. Rotating replaces
// the secret and keeps the URL, so the forge needs only the new secret pasted.
import { randomBytes, randomUUID } from "node:crypto";
import { encryptBound } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Webhook, WebhookDelivery } from "@/lib/generated/prisma/client";

export const WEBHOOK_EVENTS = ["push"] as const;
/** Deliveries kept per app for display; older ones go when a new one is recorded, except IDs kept for dedupe. */
export const DELIVERIES_KEPT = 100;
const DELIVERIES_SHOWN = 20;

export type WebhookView = { url: string; events: string[]; createdAt: Date; updatedAt: Date };

export type DeliveryView = {
  id: string;
  forge: string;
  event: string | null;
  ref: string | null;
  sha: string | null;
  outcome: WebhookDelivery["outcome"];
  reason: string;
  deploymentId: string | null;
  receivedAt: Date;
};

export function webhookSecretBinding(webhookId: string): string[] {
  return ["webhook-secret", webhookId];
}

export function webhookUrl(urlToken: string): string {
  return `${getEnv().publicUrl}/api/v1/hooks/${urlToken}`;
}

function webhookView(row: Webhook): WebhookView {
  return { url: webhookUrl(row.urlToken), events: row.events, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

export function deliveryView(row: WebhookDelivery): DeliveryView {
  return {
    id: row.id,
    forge: row.forge,
    event: row.event,
    ref: row.ref,
    sha: row.sha,
    outcome: row.outcome,
    reason: row.reason,
    deploymentId: row.deploymentId,
    receivedAt: row.receivedAt,
  };
}

async function appOfTeam(tx: Db | Tx, ctx: Ctx, appId: string): Promise<{ id: string; status: string }> {
  const app = await tx.app.findFirst({ where: { id: appId, teamId: ctx.teamId }, select: { id: true, status: true } });
  if (!app) throw new AppError("not_found", "App not found.");
  return app;
}

/** Creates the app's webhook, or gives the existing one a new secret (same URL). The secret is in this answer only. */
export async function createOrRotateWebhook(
  db: Db,
  ctx: Ctx,
  appId: string,
): Promise<{ webhook: WebhookView & { secret: string }; rotated: boolean }> {
  authorize(ctx, "apps:write");
  return await db.$transaction(async (tx) => {
    const app = await appOfTeam(tx, ctx, appId);
    if (app.status === "deleting") throw new AppError("conflict", "This app is being deleted.");
    const secret = randomBytes(32).toString("base64url");
    const existing = await tx.webhook.findUnique({ where: { appId } });
    const id = existing?.id ?? randomUUID();
    const secretSealed = encryptBound(secret, webhookSecretBinding(id));
    const row = existing
      ? await tx.webhook.update({ where: { id }, data: { secretSealed } })
      : await tx.webhook.create({
          data: {
            id,
            appId,
            teamId: ctx.teamId,
            urlToken: randomBytes(32).toString("base64url"),
            secretSealed,
            events: [...WEBHOOK_EVENTS],
            createdBy: actorUserId(ctx),
          },
        });
    await recordAudit(tx, ctx, {
      action: existing ? "webhook.rotated" : "webhook.created",
      target: { type: "app", id: appId },
    });
    return { webhook: { ...webhookView(row), secret }, rotated: existing !== null };
  });
}

/** The app's webhook (without its secret) and its newest deliveries, newest first. */
export async function getWebhook(
  db: Db,
  ctx: Ctx,
  appId: string,
): Promise<{ webhook: WebhookView; deliveries: DeliveryView[] }> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({
    where: { id: appId, teamId: ctx.teamId },
    select: {
      webhook: true,
      webhookDeliveries: { orderBy: [{ receivedAt: "desc" }, { id: "desc" }], take: DELIVERIES_SHOWN },
    },
  });
  if (!app) throw new AppError("not_found", "App not found.");
  if (!app.webhook) throw new AppError("not_found", "This app has no webhook.");
  return { webhook: webhookView(app.webhook), deliveries: app.webhookDeliveries.map(deliveryView) };
}

/** Turns the webhook off: its URL answers 401 from now on. The delivery history stays until the app goes. */
export async function deleteWebhook(db: Db, ctx: Ctx, appId: string): Promise<void> {
  authorize(ctx, "apps:write");
  await db.$transaction(async (tx) => {
    await appOfTeam(tx, ctx, appId);
    const { count } = await tx.webhook.deleteMany({ where: { appId, teamId: ctx.teamId } });
    if (count === 0) throw new AppError("not_found", "This app has no webhook.");
    await recordAudit(tx, ctx, { action: "webhook.deleted", target: { type: "app", id: appId } });
  });
}
