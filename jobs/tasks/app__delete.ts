// Removes an app (lib/engine/app-delete.ts): its route, containers, images, logs, then its rows. Runs in the app's
// queue (jobs/queues.ts), so no release of the app is starting containers meanwhile.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { failOperation } from "@/lib/domain/operations";
import { appDeleteDepsFromEnv, deleteApp } from "@/lib/engine/app-delete";

export const appDelete = defineTask(catalog.app__delete, {
  async run(payload, ctx) {
    await deleteApp(appDeleteDepsFromEnv(ctx), payload);
  },
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
