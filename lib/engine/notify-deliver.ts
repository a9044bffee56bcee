// Sends one notification delivery (notification__deliver): the event, to one channel, and records the outcome on
// the NotificationDelivery row (attempts, status code, error, duration). Webhook: a JSON body signed with
// HMAC-SHA256 under the channel's secret; Slack: a Slack-compatible {text, blocks}; email: queued through the
// platform's mail path (OutboundEmail and email__send, which has its own retries). A 2xx answer delivers; a 5xx, a
// timeout or an unreachable receiver is retried (the job's bounded backoff) until the last attempt, which marks it
// failed; a 3xx (redirects are not followed) or a 4xx is final at once.
//
// Idempotent: a delivery that is no longer pending (delivered, failed) or gone (channel deleted) is left alone.
import { createHmac } from "node:crypto";
import type { Logger } from "pino";
import type { HostLookup } from "@/lib/build/source-git/dns";
import { decryptBound } from "@/lib/crypto";
import type { Db } from "@/lib/db";
import { secretBinding, targetBinding } from "@/lib/domain/notification-channels";
import { queueEmail } from "@/lib/email";
import { postNotification } from "@/lib/engine/notify-http";
import { AppError } from "@/lib/errors";

export type DeliverDeps = {
  db: Db;
  log: Logger;
  attempt: number;
  maxAttempts: number;
  allowPrivateHosts: boolean;
  publicUrl: string;
  timeoutMs?: number;
  lookup?: HostLookup;
  now?: () => Date;
};

export const SIGNATURE_HEADER = "x-tussilago-signature";
export const TIMESTAMP_HEADER = "x-tussilago-timestamp";
export const EVENT_HEADER = "x-tussilago-event";
export const DELIVERY_HEADER = "x-tussilago-delivery";
const ERROR_MAX = 500;

/** `sha256=` and the hex HMAC-SHA256 of the raw body under the channel's secret, as receivers verify it. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

type Loaded = NonNullable<Awaited<ReturnType<typeof load>>>;

async function load(db: Db, deliveryId: string) {
  return await db.notificationDelivery.findUnique({
    where: { id: deliveryId },
    include: { channel: true, event: { include: { team: { select: { id: true, name: true, slug: true } } } } },
  });
}

/** The JSON every webhook receiver gets (documented in docs/metrics.md#notifications). */
export function webhookBody(row: Loaded, app: { id: string; name: string } | null, publicUrl: string, at: Date) {
  const event = row.event;
  return {
    id: event.id,
    event: event.event,
    team: { id: event.team.id, name: event.team.name },
    app,
    deployment: event.deploymentId ? { id: event.deploymentId } : null,
    database: event.databaseId ? { id: event.databaseId } : null,
    domain: event.domainId ? { id: event.domainId } : null,
    summary: event.summary,
    url: portalUrl(publicUrl, event.team.id, app?.id ?? null, event.deploymentId),
    at: at.toISOString(),
  };
}

function portalUrl(publicUrl: string, teamId: string, appId: string | null, deploymentId: string | null): string {
  if (appId && deploymentId) return `${publicUrl}/teams/${teamId}/apps/${appId}/deployments/${deploymentId}`;
  if (appId) return `${publicUrl}/teams/${teamId}/apps/${appId}`;
  return `${publicUrl}/teams/${teamId}/notifications`;
}

function slackBody(body: ReturnType<typeof webhookBody>) {
  const where = body.app ? ` · ${body.app.name}` : "";
  const text = `[${body.team.name}${where}] ${body.event}: ${body.summary}`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${body.event}*${where}\n${body.summary}` } },
      { type: "context", elements: [{ type: "mrkdwn", text: `<${body.url}|Open in Tussilago> · ${body.at}` }] },
    ],
  };
}

export async function deliverNotification(deliveryId: string, deps: DeliverDeps): Promise<void> {
  const { db } = deps;
  const row = await load(db, deliveryId);
  if (row?.status !== "pending") return;
  const log = deps.log.child({ deliveryId, channelId: row.channelId, teamId: row.teamId, event: row.event.event });
  const now = deps.now?.() ?? new Date();
  const app = row.event.appId
    ? await db.app.findUnique({ where: { id: row.event.appId }, select: { id: true, name: true } })
    : null;
  const body = webhookBody(row, app, deps.publicUrl, now);
  const target = decryptBound(row.channel.targetSealed, targetBinding(row.channelId));

  if (row.channel.kind === "email") {
    await db.$transaction(async (tx) => {
      await queueEmail(tx, {
        to: target,
        subject: `[Tussilago] ${body.team.name}${body.app ? ` · ${body.app.name}` : ""}: ${body.event}`,
        text: `${body.summary}\n\n${body.url}\n\n${body.at}`,
      });
      await tx.notificationDelivery.updateMany({
        where: { id: deliveryId, status: "pending" },
        data: { status: "delivered", attempts: { increment: 1 }, lastAttemptAt: now, deliveredAt: now, error: null },
      });
    });
    log.info("notification queued as email");
    return;
  }

  const raw = JSON.stringify(row.channel.kind === "slack" ? slackBody(body) : body);
  const headers: Record<string, string> = {
    [EVENT_HEADER]: row.event.event,
    [DELIVERY_HEADER]: row.id,
    [TIMESTAMP_HEADER]: String(Math.floor(now.getTime() / 1000)),
  };
  if (row.channel.kind === "webhook" && row.channel.secretSealed) {
    headers[SIGNATURE_HEADER] = signatureOf(decryptBound(row.channel.secretSealed, secretBinding(row.channelId)), raw);
  }
  const result = await postNotification(target, raw, headers, {
    allowPrivateHosts: deps.allowPrivateHosts,
    ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  });
  const base = { attempts: { increment: 1 }, lastAttemptAt: now };
  if (result.kind === "answered" && result.statusCode >= 200 && result.statusCode < 300) {
    await db.notificationDelivery.updateMany({
      where: { id: deliveryId, status: "pending" },
      data: {
        ...base,
        status: "delivered",
        statusCode: result.statusCode,
        durationMs: result.durationMs,
        error: null,
        deliveredAt: now,
      },
    });
    log.info({ statusCode: result.statusCode }, "notification delivered");
    return;
  }
  const retryable =
    result.kind === "unreachable" ||
    (result.kind === "answered" && (result.statusCode >= 500 || result.statusCode === 429));
  const error =
    result.kind === "answered"
      ? result.statusCode >= 300 && result.statusCode < 400
        ? `The receiver answered ${result.statusCode} (a redirect, which is not followed).`
        : `The receiver answered ${result.statusCode}.`
      : result.error;
  const final = !retryable || deps.attempt >= deps.maxAttempts;
  await db.notificationDelivery.updateMany({
    where: { id: deliveryId, status: "pending" },
    data: {
      ...base,
      ...(final ? { status: "failed" as const } : {}),
      statusCode: result.kind === "answered" ? result.statusCode : null,
      durationMs: result.kind === "refused" ? null : result.durationMs,
      error: (final && retryable ? `${error} Gave up after ${deps.attempt} attempts.` : error).slice(0, ERROR_MAX),
    },
  });
  log.warn({ error, final, attempt: deps.attempt }, "notification not delivered");
  if (!final) throw new AppError("unavailable", error, { retryable: true });
}
