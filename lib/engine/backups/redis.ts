// redis__export and redis__import: a tenant Redis's keys with their TTLs, through the same encrypted store as the
// database backups. For moving data, not a verified backup: nothing restores it to compare (docs/backups.md).
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import type { BackupDeps } from "./deps";
import { failBackup, finalBackupReason } from "./failure";

export async function exportRedisNow(deps: BackupDeps, backupId: string, operationId: string): Promise<void> {
  const { db } = deps;
  if (!(await claimOperation(db, operationId))) return;
  const row = await db.backup.findUnique({ where: { id: backupId } });
  if (row?.status !== "running") {
    if (row?.status === "failed") await failOperation(db, operationId, row.error ?? "The export failed.");
    else await succeedOperation(db, operationId);
    return;
  }
  const log = deps.log.child({ teamId: row.teamId, backupId, redisId: row.redisId, operationId });
  if (!row.redisId || !row.storageKey) {
    await failBackup(db, log, backupId, "The Redis instance was deleted before the export ran.");
    await failOperation(db, operationId, "The Redis instance was deleted before the export ran.");
    return;
  }
  await mkdir(deps.tmpDir, { recursive: true });
  const file = path.join(deps.tmpDir, `${backupId}.redis`);
  try {
    const exported = await deps.redis.exportTenantRedis({ resourceId: row.redisId, outFile: file });
    await deps.store.put(row.storageKey, file);
    await db.backup.updateMany({
      where: { id: backupId, status: "running" },
      data: {
        status: "succeeded",
        sizeBytes: BigInt(exported.bytes),
        counts: { keys: exported.keys },
        finishedAt: new Date(),
      },
    });
    log.info({ keys: exported.keys, bytes: exported.bytes }, "redis exported");
  } catch (error) {
    const reason = finalBackupReason(error);
    if (reason === null) throw error;
    await failBackup(db, log, backupId, reason);
    await failOperation(db, operationId, reason);
    return;
  } finally {
    await rm(file, { force: true });
  }
  await succeedOperation(db, operationId);
}

export type RedisImportJob = { backupId: string; redisId: string; operationId: string; mode: "merge" | "replace" };

export async function importRedisNow(deps: BackupDeps, job: RedisImportJob): Promise<void> {
  const { db } = deps;
  if (!(await claimOperation(db, job.operationId))) return;
  const source = await db.backup.findUnique({ where: { id: job.backupId } });
  const target = await db.tenantRedis.findUnique({ where: { id: job.redisId } });
  if (source?.status !== "succeeded" || !source.storageKey) {
    await failOperation(db, job.operationId, "The export was deleted before it could be imported.");
    return;
  }
  if (target?.status !== "ready" || target.teamId !== source.teamId) {
    await failOperation(db, job.operationId, "The Redis instance is gone or not ready.");
    return;
  }
  await mkdir(deps.tmpDir, { recursive: true });
  const file = path.join(deps.tmpDir, `${job.operationId}.import.redis`);
  try {
    await deps.store.get(source.storageKey, file);
    const result = await deps.redis.importTenantRedis({ resourceId: job.redisId, inFile: file, mode: job.mode });
    deps.log.info({ teamId: target.teamId, redisId: job.redisId, keys: result.keys }, "redis imported");
  } catch (error) {
    const reason = finalBackupReason(error);
    if (reason === null) throw error;
    await failOperation(db, job.operationId, `The import failed: ${reason}`);
    return;
  } finally {
    await rm(file, { force: true });
  }
  await succeedOperation(db, job.operationId);
}
