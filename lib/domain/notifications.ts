// Notification events (#17): something happened to a team (a deployment ended, an app crashed, a certificate or a
// backup failed, a quota was reached) and each enabled channel subscribed to it gets one delivery, sent by the worker
// (notification__deliver, lib/engine/notify-deliver.ts). notifyTeam runs inside the caller's transaction, so the
// event and its jobs commit with the state change that caused them, or not at all. It is the one implementation:
// the engine's emitters (state.ts, crash-watch.ts, tls-status.ts) call it too (the engine may import the domain).
import { enqueueMany } from "@/jobs/enqueue";
import type { Db, Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

export const NOTIFICATION_EVENTS = [
  "deployment.succeeded",
  "deployment.failed",
  "app.crashed",
  "app.crash_looping",
  "backup.failed",
  "certificate.failed",
  "quota.reached",
] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number];
/** Sent to one channel only, on request (POST .../test); never subscribed to. */
export const TEST_EVENT = "channel.test";

export type NotificationSubject = {
  appId?: string | null;
  deploymentId?: string | null;
  databaseId?: string | null;
  domainId?: string | null;
};

export type NotifyInput = {
  teamId: string;
  event: NotificationEventName;
  subject: NotificationSubject;
  /** One line a person reads first: "Deployment of shop failed: …". */
  summary: string;
  /** Rate limit: a second event with the same key for the team is dropped (quota.reached uses one per hour). */
  dedupeKey?: string;
};

const SUMMARY_MAX = 1000;

/**
 * Records the event and queues one notification__deliver per enabled channel of the team subscribed to it, in the
 * caller's transaction. Four statements whatever the number of channels. Answers the event's id, or null when the
 * dedupe key was already used.
 */
export async function notifyTeam(tx: Tx, input: NotifyInput): Promise<string | null> {
  const channels = await tx.notificationChannel.findMany({
    where: { teamId: input.teamId, enabled: true, events: { has: input.event } },
    select: { id: true },
  });
  return await recordEvent(tx, input.teamId, input.event, input.subject, input.summary, input.dedupeKey, channels);
}

/** The test delivery of one channel (POST /api/v1/notification-channels/{id}/test). */
export async function notifyChannel(tx: Tx, teamId: string, channelId: string, summary: string): Promise<string> {
  const eventId = await recordEvent(tx, teamId, TEST_EVENT, {}, summary, undefined, [{ id: channelId }]);
  if (!eventId) throw new AppError("internal", "The test event was not recorded.");
  return eventId;
}

async function recordEvent(
  tx: Tx,
  teamId: string,
  event: string,
  subject: NotificationSubject,
  summary: string,
  dedupeKey: string | undefined,
  channels: { id: string }[],
): Promise<string | null> {
  // ON CONFLICT DO NOTHING: a duplicate key must not abort the caller's transaction.
  const [row] = await tx.notificationEvent.createManyAndReturn({
    data: [
      {
        teamId,
        event,
        appId: subject.appId ?? null,
        deploymentId: subject.deploymentId ?? null,
        databaseId: subject.databaseId ?? null,
        domainId: subject.domainId ?? null,
        summary: summary.slice(0, SUMMARY_MAX),
        dedupeKey: dedupeKey ?? null,
      },
    ],
    skipDuplicates: true,
    select: { id: true },
  });
  if (!row) return null;
  if (channels.length === 0) return row.id;
  const deliveries = await tx.notificationDelivery.createManyAndReturn({
    data: channels.map((channel) => ({ channelId: channel.id, eventId: row.id, teamId })),
    select: { id: true },
  });
  await enqueueMany(
    tx,
    "notification__deliver",
    deliveries.map((delivery) => ({ deliveryId: delivery.id })),
  );
  return row.id;
}

/** The clock hour (UTC) a quota.reached event is counted in: at most one per team, quota and hour. */
export function quotaDedupeKey(quota: string, now: Date): string {
  return `quota.reached:${quota}:${now.toISOString().slice(0, 13)}`;
}

/**
 * A request was refused by a quota (quotaExceeded in lib/domain/quotas.ts). Called by the edges (lib/api/handler.ts,
 * lib/actions.ts) AFTER the refused transaction rolled back, in a transaction of its own; never throws (telling the
 * team must not change the answer to the request).
 */
export async function noteQuotaRefusal(db: Db, teamId: string, error: unknown, now = new Date()): Promise<void> {
  if (!(error instanceof AppError) || error.code !== "quota_exceeded") return;
  const details = error.details as { quota?: unknown; limit?: unknown } | undefined;
  const quota = typeof details?.quota === "string" ? details.quota : "unknown";
  try {
    await db.$transaction(async (tx) => {
      await notifyTeam(tx, {
        teamId,
        event: "quota.reached",
        subject: {},
        summary: error.message,
        dedupeKey: quotaDedupeKey(quota, now),
      });
    });
  } catch (cause) {
    logger({ teamId }).warn({ err: cause, quota }, "could not record a quota.reached notification");
  }
}
