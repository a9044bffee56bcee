// Exports a tenant Redis's keys into the backup store (lib/engine/backups/redis.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { failOperation } from "@/lib/domain/operations";
import { backupDeps } from "@/lib/engine/backups/adapters";
import { failBackup } from "@/lib/engine/backups/failure";
import { exportRedisNow } from "@/lib/engine/backups/redis";

export const redisExport = defineTask(catalog.redis__export, {
  run: ({ backupId, operationId }, { db, log }) => exportRedisNow(backupDeps(db, log), backupId, operationId),
  async onGiveUp({ backupId, operationId }, reason, { db, log }) {
    await failBackup(db, log, backupId, reason);
    await failOperation(db, operationId, reason);
  },
});
