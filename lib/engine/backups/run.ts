// backup__run: dump a tenant database, store the dump encrypted, then prove it restores: the stored object is read
// back (decrypted and authenticated), restored into a scratch database on the tenant server and every table's row
// count compared with the counts taken in the dump's snapshot (lib/infra/pg-backup). Only then is it verified.
// Verifying what was stored, not the local file, is what catches a store that mangles or loses the object.
// Idempotent: a finished backup is a no-op; a retried one starts from the dump again. Temp files are always removed.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Backup } from "@/lib/generated/prisma/client";
import type { BackupDeps } from "./deps";
import { failBackup, finalBackupReason } from "./failure";

const FINISHED: Backup["status"][] = ["verified", "succeeded", "failed"];

export function isFinishedBackup(row: Pick<Backup, "status">): boolean {
  return FINISHED.includes(row.status);
}

/** Runs the backup to its end; returns the row as it ended (null when it is gone). Retryable failures are thrown. */
export async function runBackup(deps: BackupDeps, backupId: string): Promise<Backup | null> {
  const { db, pg, store } = deps;
  const row = await db.backup.findUnique({ where: { id: backupId } });
  if (!row || isFinishedBackup(row)) return row;
  const log = deps.log.child({ teamId: row.teamId, backupId, databaseId: row.databaseId });
  if (row.kind !== "postgres" || !row.databaseId || !row.storageKey) {
    await failBackup(db, log, backupId, "The database was deleted before the backup ran.");
    return await db.backup.findUnique({ where: { id: backupId } });
  }
  const resourceId = row.databaseId;
  const storageKey = row.storageKey;
  await mkdir(deps.tmpDir, { recursive: true });
  const dumpFile = path.join(deps.tmpDir, `${backupId}.dump`);
  const checkFile = path.join(deps.tmpDir, `${backupId}.check.dump`);
  try {
    // A retry after a crash while verifying starts over: the scratch database of the earlier attempt is replaced.
    await db.backup.updateMany({ where: { id: backupId, status: "verifying" }, data: { status: "running" } });
    const dump = await pg.dumpTenantDatabase({ resourceId, outFile: dumpFile });
    await store.put(storageKey, dumpFile);
    await rm(dumpFile, { force: true });
    const moved = await db.backup.updateMany({
      where: { id: backupId, status: "running" },
      data: { status: "verifying", sizeBytes: BigInt(dump.bytes), counts: dump.counts },
    });
    if (moved.count !== 1) return await db.backup.findUnique({ where: { id: backupId } });
    log.info({ bytes: dump.bytes, tables: dump.counts.length }, "backup dumped and stored; verifying");
    await store.get(storageKey, checkFile);
    const verification = await pg.verifyDump({
      resourceId,
      dumpFile: checkFile,
      expected: dump.counts,
      scratchId: backupId,
    });
    if (!verification.ok) {
      await failBackup(db, log, backupId, `The backup did not restore as taken: ${verification.reason}`, {
        verification,
      });
    } else {
      await db.backup.updateMany({
        where: { id: backupId, status: "verifying" },
        data: { status: "verified", verification, error: null, finishedAt: new Date() },
      });
      log.info({ tables: verification.tables, rows: verification.rows }, "backup verified");
    }
  } catch (error) {
    const reason = finalBackupReason(error);
    if (reason === null) throw error;
    log.warn({ err: error }, "backup failed");
    await failBackup(db, log, backupId, reason);
  } finally {
    await rm(dumpFile, { force: true });
    await rm(checkFile, { force: true });
  }
  return await db.backup.findUnique({ where: { id: backupId } });
}
