// A team's notification channels (#17): email addresses, a signed JSON webhook, or a Slack-compatible webhook.
// Who may do what: admins create, retarget, rename, test and delete; members may only switch a channel's events on
// and off (its `events` and `enabled`); viewers read. The target (addresses or URL: a Slack URL is a credential in
// itself) and the webhook's signing secret are sealed at rest bound to the channel; the secret is answered once, on
// creation. URLs are checked like git URLs (lib/build/source-git/url-policy.ts): https only, no credentials, never a
// local or private host; the worker checks the resolved addresses again at each delivery (lib/engine/notify-url.ts).
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { checkUrlHost } from "@/lib/build/source-git/url-policy";
import { decryptBound, encryptBound } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { NOTIFICATION_EVENTS, notifyChannel } from "@/lib/domain/notifications";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { enforceNotificationChannelQuota } from "@/lib/domain/quotas";
import { lineText } from "@/lib/domain/text";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type {
  NotificationChannel,
  NotificationChannelKind,
  NotificationDelivery,
  NotificationEvent,
} from "@/lib/generated/prisma/client";

export const CHANNEL_KINDS = ["email", "webhook", "slack"] as const;
export const MAX_EMAIL_ADDRESSES = 10;
export const MAX_URL_LENGTH = 2048;

export function targetBinding(channelId: string): string[] {
  return ["notification-target", channelId];
}
export function secretBinding(channelId: string): string[] {
  return ["notification-secret", channelId];
}

export const channelName = lineText().min(1).max(100);
export const channelEvents = z
  .array(z.enum(NOTIFICATION_EVENTS))
  .max(NOTIFICATION_EVENTS.length)
  .refine((events) => new Set(events).size === events.length, "Give each event once.");
/** Addresses (comma-separated or a list in the API) or a URL; checked against the kind by checkTarget. */
export const channelTarget = z.string().min(1).max(MAX_URL_LENGTH);

export type ChannelInput = {
  kind: NotificationChannelKind;
  name: string;
  target: string;
  events: string[];
  enabled?: boolean;
};
export type ChannelChange = { name?: string; target?: string; events?: string[]; enabled?: boolean };

export type ChannelView = {
  id: string;
  kind: NotificationChannelKind;
  name: string;
  /** Email addresses in full; a URL shown as scheme and host only (its path may be a credential). */
  target: string;
  events: string[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
};

export type DeliveryView = {
  id: string;
  event: string;
  summary: string;
  status: NotificationDelivery["status"];
  attempts: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
};

function invalidTarget(message: string): AppError {
  return new AppError("invalid", message, { details: [{ path: "target", message }] });
}

const EMAIL = z.email();

/** The canonical target for its kind, or a 422 naming the `target` field. Pure: no network. */
export function checkTarget(kind: NotificationChannelKind, raw: string, allowPrivateHosts: boolean): string {
  const target = raw.trim();
  if (kind === "email") {
    const addresses = target
      .split(/[,\s]+/)
      .map((address) => address.trim())
      .filter(Boolean);
    if (addresses.length === 0) throw invalidTarget("Enter at least one email address.");
    if (addresses.length > MAX_EMAIL_ADDRESSES) {
      throw invalidTarget(`Enter at most ${MAX_EMAIL_ADDRESSES} email addresses.`);
    }
    for (const address of addresses) {
      if (!EMAIL.safeParse(address).success) throw invalidTarget(`${address.slice(0, 100)} is not an email address.`);
    }
    return [...new Set(addresses)].join(", ");
  }
  return checkWebhookUrl(target, allowPrivateHosts).href;
}

/** https (http too when private hosts are allowed), no credentials or fragment, never a local or private host. */
export function checkWebhookUrl(target: string, allowPrivateHosts: boolean): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw invalidTarget("Enter the receiver's https:// URL.");
  }
  if (target.includes("\\") || /\s/.test(target))
    throw invalidTarget("The URL must not contain spaces or backslashes.");
  const httpAllowed = allowPrivateHosts && url.protocol === "http:";
  if (url.protocol !== "https:" && !httpAllowed) throw invalidTarget("Only https:// URLs are accepted.");
  if (url.username !== "" || url.password !== "")
    throw invalidTarget("Remove the user name and password from the URL.");
  if (url.hash !== "") throw invalidTarget("Remove the fragment (#...) from the URL.");
  try {
    checkUrlHost(url, allowPrivateHosts);
  } catch {
    throw invalidTarget(
      `The host ${url.hostname} is a local, private or reserved address; only public hosts are allowed.`,
    );
  }
  return url;
}

function shownTarget(kind: NotificationChannelKind, target: string): string {
  if (kind === "email") return target;
  const url = new URL(target);
  return `${url.protocol}//${url.host}/…`;
}

export function channelView(row: NotificationChannel): ChannelView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    target: shownTarget(row.kind, decryptBound(row.targetSealed, targetBinding(row.id))),
    events: row.events,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function deliveryView(
  row: NotificationDelivery & { event: Pick<NotificationEvent, "event" | "summary"> },
): DeliveryView {
  return {
    id: row.id,
    event: row.event.event,
    summary: row.event.summary,
    status: row.status,
    attempts: row.attempts,
    statusCode: row.statusCode,
    error: row.error,
    durationMs: row.durationMs,
    createdAt: row.createdAt,
    lastAttemptAt: row.lastAttemptAt,
    deliveredAt: row.deliveredAt,
  };
}

async function channelOfTeam(tx: Db | Tx, ctx: Ctx, id: string): Promise<NotificationChannel> {
  const row = await tx.notificationChannel.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw new AppError("not_found", "Notification channel not found.");
  return row;
}

export async function listChannels(db: Db, ctx: Ctx, page: PageInput): Promise<Page<ChannelView>> {
  authorize(ctx, "notifications:read");
  const rows = await db.notificationChannel.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, channelView);
}

/** Creates a channel; a webhook channel's signing secret is in this answer only. */
export async function createChannel(
  db: Db,
  ctx: Ctx,
  input: ChannelInput,
): Promise<{ channel: ChannelView; secret: string | null }> {
  authorize(ctx, "notifications:manage");
  const target = checkTarget(input.kind, input.target, getEnv().infra.webhookAllowPrivateHosts);
  return await db.$transaction(async (tx) => {
    await enforceNotificationChannelQuota(tx, ctx.teamId);
    const id = randomUUID();
    const secret = input.kind === "webhook" ? randomBytes(32).toString("base64url") : null;
    const row = await tx.notificationChannel.create({
      data: {
        id,
        teamId: ctx.teamId,
        kind: input.kind,
        name: input.name,
        targetSealed: encryptBound(target, targetBinding(id)),
        secretSealed: secret ? encryptBound(secret, secretBinding(id)) : null,
        events: [...new Set(input.events)],
        enabled: input.enabled ?? true,
        createdBy: actorUserId(ctx),
      },
    });
    await recordAudit(tx, ctx, {
      action: "notification_channel.created",
      target: { type: "notification_channel", id },
      metadata: { kind: input.kind, name: input.name },
    });
    return { channel: channelView(row), secret };
  });
}

/**
 * Changes a channel. `events` and `enabled` (switching events on and off) need a member; `name` and `target` an
 * admin. A changed target keeps the signing secret.
 */
export async function updateChannel(db: Db, ctx: Ctx, id: string, change: ChannelChange): Promise<ChannelView> {
  authorize(
    ctx,
    change.name !== undefined || change.target !== undefined ? "notifications:manage" : "notifications:toggle",
  );
  return await db.$transaction(async (tx) => {
    const row = await channelOfTeam(tx, ctx, id);
    const target =
      change.target === undefined
        ? undefined
        : checkTarget(row.kind, change.target, getEnv().infra.webhookAllowPrivateHosts);
    const updated = await tx.notificationChannel.update({
      where: { id: row.id },
      data: {
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(target !== undefined ? { targetSealed: encryptBound(target, targetBinding(row.id)) } : {}),
        ...(change.events !== undefined ? { events: [...new Set(change.events)] } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
      },
    });
    await recordAudit(tx, ctx, {
      action: "notification_channel.updated",
      target: { type: "notification_channel", id: row.id },
      metadata: { fields: Object.keys(change).filter((key) => change[key as keyof ChannelChange] !== undefined) },
    });
    return channelView(updated);
  });
}

export async function deleteChannel(db: Db, ctx: Ctx, id: string): Promise<void> {
  authorize(ctx, "notifications:manage");
  await db.$transaction(async (tx) => {
    const row = await channelOfTeam(tx, ctx, id);
    await tx.notificationChannel.delete({ where: { id: row.id } });
    await recordAudit(tx, ctx, {
      action: "notification_channel.deleted",
      target: { type: "notification_channel", id: row.id },
      metadata: { name: row.name },
    });
  });
}

/** Queues a test delivery to this channel only (also when it is switched off); answers it, pending. */
export async function testChannel(db: Db, ctx: Ctx, id: string): Promise<DeliveryView> {
  authorize(ctx, "notifications:manage");
  return await db.$transaction(async (tx) => {
    const row = await channelOfTeam(tx, ctx, id);
    const eventId = await notifyChannel(tx, ctx.teamId, row.id, `Test notification for the channel ${row.name}.`);
    const delivery = await tx.notificationDelivery.findUniqueOrThrow({
      where: { channelId_eventId: { channelId: row.id, eventId } },
      include: { event: { select: { event: true, summary: true } } },
    });
    await recordAudit(tx, ctx, {
      action: "notification_channel.tested",
      target: { type: "notification_channel", id: row.id },
    });
    return deliveryView(delivery);
  });
}

/** The channel's deliveries, newest first: three queries whatever the page size. */
export async function listDeliveries(db: Db, ctx: Ctx, id: string, page: PageInput): Promise<Page<DeliveryView>> {
  authorize(ctx, "notifications:read");
  const channel = await channelOfTeam(db, ctx, id);
  const rows = await db.notificationDelivery.findMany({
    where: { channelId: channel.id, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
    include: { event: { select: { event: true, summary: true } } },
  });
  return toPage(rows, page.limit, deliveryView);
}

/** The newest deliveries of these channels of the team (the portal's list): two queries whatever their number. */
export async function recentDeliveries(
  db: Db,
  ctx: Ctx,
  channelIds: string[],
  perChannel = 5,
): Promise<Map<string, DeliveryView[]>> {
  authorize(ctx, "notifications:read");
  const rows =
    channelIds.length === 0
      ? []
      : await db.notificationDelivery.findMany({
          where: { teamId: ctx.teamId, channelId: { in: channelIds } },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take: channelIds.length * perChannel * 4,
          include: { event: { select: { event: true, summary: true } } },
        });
  const result = new Map<string, DeliveryView[]>(channelIds.map((id) => [id, []]));
  for (const row of rows) {
    const list = result.get(row.channelId);
    if (list && list.length < perChannel) list.push(deliveryView(row));
  }
  return result;
}

/** Switches one event of a channel on or off against its current events (the portal's toggles; members may). */
export async function toggleChannelEvent(
  db: Db,
  ctx: Ctx,
  id: string,
  event: (typeof NOTIFICATION_EVENTS)[number],
  on: boolean,
): Promise<ChannelView> {
  authorize(ctx, "notifications:toggle");
  const row = await channelOfTeam(db, ctx, id);
  const events = new Set(row.events);
  if (on) events.add(event);
  else events.delete(event);
  return await updateChannel(db, ctx, id, { events: [...events] });
}
