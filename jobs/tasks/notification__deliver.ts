// Sends one notification delivery (lib/engine/notify-deliver.ts): the engine records every attempt's outcome and
// throws only to be retried (5xx, timeouts); the last attempt marks the delivery failed itself, so onGiveUp only
// covers an attempt that died before recording anything.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { deliverNotification } from "@/lib/engine/notify-deliver";
import { getEnv } from "@/lib/env";

export const notificationDeliver = defineTask(catalog.notification__deliver, {
  async run({ deliveryId }, { db, log, attempt, maxAttempts }) {
    const env = getEnv();
    await deliverNotification(deliveryId, {
      db,
      log,
      attempt,
      maxAttempts,
      allowPrivateHosts: env.infra.webhookAllowPrivateHosts,
      publicUrl: env.publicUrl,
    });
  },
  async onGiveUp({ deliveryId }, reason, { db }) {
    await db.notificationDelivery.updateMany({
      where: { id: deliveryId, status: "pending" },
      data: { status: "failed", error: reason.slice(0, 500) },
    });
  },
});
