// backup__delete: the stored object first, then the row, so no object outlives its row (a crash between the two
// leaves a row whose retried job deletes an already missing object: the store's delete is idempotent).
import { claimOperation, succeedOperation } from "@/lib/domain/operations";
import type { BackupDeps } from "./deps";

export async function deleteBackupNow(
  deps: Pick<BackupDeps, "db" | "log" | "store">,
  backupId: string,
  operationId: string,
): Promise<void> {
  const { db } = deps;
  if (!(await claimOperation(db, operationId))) return;
  const row = await db.backup.findUnique({ where: { id: backupId }, select: { storageKey: true, teamId: true } });
  if (row?.storageKey) await deps.store.delete(row.storageKey);
  if (row) {
    await db.backup.deleteMany({ where: { id: backupId } });
    deps.log.info({ teamId: row.teamId, backupId, operationId }, "backup deleted");
  }
  await succeedOperation(db, operationId);
}
