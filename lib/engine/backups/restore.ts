// backup__restore: a verified backup into a database of its team. "new" (no safety backup): the database was created
// by the request and is provisioned by tenant_db__provision; this waits for it by retrying, then restores into the
// empty database. "same": the safety backup the request wrote is taken (and verified) first; only then is the
// database's content replaced, with the app's connections closed and new ones refused meanwhile (the adapter). A
// failed safety backup stops the restore before anything is changed.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { claimOperation, failOperation, setOperationProgress, succeedOperation } from "@/lib/domain/operations";
import { AppError } from "@/lib/errors";
import type { BackupDeps } from "./deps";
import { finalBackupReason } from "./failure";
import { runBackup } from "./run";

export type RestoreJob = { backupId: string; operationId: string; databaseId: string; safetyBackupId?: string };

export async function restoreFromBackup(deps: BackupDeps, job: RestoreJob): Promise<void> {
  const { db } = deps;
  if (!(await claimOperation(db, job.operationId))) return;
  const log = deps.log.child({ operationId: job.operationId, backupId: job.backupId, databaseId: job.databaseId });
  const backup = await db.backup.findUnique({ where: { id: job.backupId } });
  if (backup?.status !== "verified" || !backup.storageKey) {
    await failOperation(db, job.operationId, "The backup was deleted before it could be restored.");
    return;
  }
  const target = await db.tenantDatabase.findUnique({ where: { id: job.databaseId } });
  if (!target || target.status === "deleting") {
    await failOperation(db, job.operationId, "The database was deleted before the restore.");
    return;
  }
  if (target.status === "failed") {
    await failOperation(db, job.operationId, target.error ?? "Creating the database to restore into failed.");
    return;
  }
  if (target.status === "provisioning") {
    throw new AppError("conflict", "The database to restore into is still being created.", { retryable: true });
  }
  if (job.safetyBackupId) {
    log.info({ step: "safety_backup" }, "restore: taking the safety backup");
    await setOperationProgress(db, job.operationId, "Taking and verifying a safety backup of the database");
    const safety = await runBackup(deps, job.safetyBackupId);
    if (safety?.status !== "verified") {
      const why = safety?.error ?? "it was deleted";
      await failOperation(db, job.operationId, `The safety backup failed (${why}); nothing was restored.`);
      return;
    }
  }
  const operation = await db.operation.findUnique({ where: { id: job.operationId }, select: { attempts: true } });
  // A new database is empty on the first attempt; after a crash midway it holds part of the dump, so a retry replaces.
  const mode = job.safetyBackupId || (operation?.attempts ?? 1) > 1 ? "replace" : "empty";
  await mkdir(deps.tmpDir, { recursive: true });
  const file = path.join(deps.tmpDir, `${job.operationId}.restore.dump`);
  try {
    log.info({ step: "download" }, "restore: reading the backup");
    await setOperationProgress(db, job.operationId, "Reading the backup from the backup store");
    await deps.store.get(backup.storageKey, file);
    log.info({ step: "restore", mode }, "restore: restoring");
    await setOperationProgress(
      db,
      job.operationId,
      mode === "replace"
        ? "Restoring over the database (the app's connections are closed until it is done)"
        : "Restoring into the new database",
    );
    const result = await deps.pg.restoreDump({ resourceId: job.databaseId, dumpFile: file, mode });
    log.info({ tables: result.tables, rows: result.rows }, "restore finished");
    await setOperationProgress(db, job.operationId, `Restored ${result.tables} tables, ${result.rows} rows`);
  } catch (error) {
    const reason = finalBackupReason(error);
    if (reason === null) throw error;
    log.warn({ err: error }, "restore failed");
    await failOperation(db, job.operationId, `The restore failed: ${reason}`);
    return;
  } finally {
    await rm(file, { force: true });
  }
  await succeedOperation(db, job.operationId);
}
