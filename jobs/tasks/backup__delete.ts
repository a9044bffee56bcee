// Deletes a backup's stored object, then its row (lib/engine/backups/delete.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { failOperation } from "@/lib/domain/operations";
import { backupDeps } from "@/lib/engine/backups/adapters";
import { deleteBackupNow } from "@/lib/engine/backups/delete";

export const backupDelete = defineTask(catalog.backup__delete, {
  run: ({ backupId, operationId }, { db, log }) => deleteBackupNow(backupDeps(db, log), backupId, operationId),
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
