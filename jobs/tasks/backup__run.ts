// Dumps a tenant database, stores it encrypted and verifies it by a scratch restore (lib/engine/backups/run.ts).
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { backupDeps } from "@/lib/engine/backups/adapters";
import { failBackup } from "@/lib/engine/backups/failure";
import { runBackup } from "@/lib/engine/backups/run";

export const backupRun = defineTask(catalog.backup__run, {
  async run({ backupId, operationId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const row = await runBackup(backupDeps(db, log), backupId);
    if (row?.status === "failed") await failOperation(db, operationId, row.error ?? "The backup failed.");
    else await succeedOperation(db, operationId);
  },
  async onGiveUp({ backupId, operationId }, reason, { db, log }) {
    await failBackup(db, log, backupId, reason);
    await failOperation(db, operationId, reason);
  },
});
