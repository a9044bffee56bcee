// Restores a verified backup into a new database or over its own, after a safety backup (lib/engine/backups/restore.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { failOperation } from "@/lib/domain/operations";
import { backupDeps } from "@/lib/engine/backups/adapters";
import { failBackup } from "@/lib/engine/backups/failure";
import { restoreFromBackup } from "@/lib/engine/backups/restore";

export const backupRestore = defineTask(catalog.backup__restore, {
  run: (payload, { db, log }) => restoreFromBackup(backupDeps(db, log), payload),
  async onGiveUp({ operationId, safetyBackupId }, reason, { db, log }) {
    if (safetyBackupId) await failBackup(db, log, safetyBackupId, reason);
    await failOperation(db, operationId, `The restore failed: ${reason}`);
  },
});
