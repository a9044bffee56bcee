// backup__schedule, each minute: databases whose scheduled backup is due get one (unless one is running: that slot
// is skipped, the next comes at the next scheduled time), then retention removes scheduled backups beyond each
// database's keepDaily/keepWeekly (through backup__delete), then scratch databases left by an interrupted
// verification are dropped. Every pass is bounded; whatever one does not reach, the next minute's does.
import type { Logger } from "pino";
import { enqueue } from "@/jobs/enqueue";
import type { Db } from "@/lib/db";
import { ACTIVE_BACKUP_STATUSES, effectiveSchedule, nextBackupAt, retentionVictims } from "@/lib/domain/backup-rules";
import { startBackupInTx } from "@/lib/domain/backups";
import { createOperation } from "@/lib/domain/operations";
import type { PgBackupAdapter } from "./deps";

const BATCH = 100;

export type ScheduleDeps = { db: Db; log: Logger; pg: Pick<PgBackupAdapter, "dropStaleScratchDatabases"> | null };

export type ScheduleResult = { started: string[]; skipped: string[]; expired: string[]; scratchDropped: string[] };

export async function scheduleBackups(deps: ScheduleDeps, now = new Date()): Promise<ScheduleResult> {
  const { db } = deps;
  // A database seen for the first time (or re-enabled) gets its next time; it is not backed up on the spot.
  const unset = await db.tenantDatabase.findMany({
    where: { backupEnabled: true, backupNextAt: null, status: "ready" },
    select: { id: true, backupSchedule: true },
    take: BATCH,
  });
  for (const row of unset) {
    await db.tenantDatabase.updateMany({
      where: { id: row.id, backupNextAt: null },
      data: { backupNextAt: nextBackupAt(effectiveSchedule(row), now) },
    });
  }
  const started: string[] = [];
  const skipped: string[] = [];
  const due = await db.tenantDatabase.findMany({
    where: { backupEnabled: true, status: "ready", backupNextAt: { lte: now } },
    select: { id: true },
    orderBy: { backupNextAt: "asc" },
    take: BATCH,
  });
  for (const { id } of due) {
    const outcome = await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "TenantDatabase" WHERE id = ${id}::uuid FOR UPDATE`;
      const row = await tx.tenantDatabase.findUnique({ where: { id } });
      if (!row?.backupEnabled || row.status !== "ready" || !row.backupNextAt || row.backupNextAt > now) {
        return "gone";
      }
      await tx.tenantDatabase.update({
        where: { id },
        data: { backupNextAt: nextBackupAt(effectiveSchedule(row), now) },
      });
      const active = await tx.backup.findFirst({
        where: { databaseId: id, status: { in: [...ACTIVE_BACKUP_STATUSES] } },
        select: { id: true },
      });
      if (active) return "skipped";
      await startBackupInTx(tx, { teamId: row.teamId, database: row, trigger: "scheduled", createdById: null });
      return "started";
    });
    if (outcome === "started") started.push(id);
    if (outcome === "skipped") skipped.push(id);
  }
  const expired = await enforceRetention(db);
  let scratchDropped: string[] = [];
  if (deps.pg) {
    const active = await db.backup.findMany({
      where: { kind: "postgres", status: { in: [...ACTIVE_BACKUP_STATUSES] } },
      select: { id: true },
    });
    scratchDropped = await deps.pg.dropStaleScratchDatabases(active.map((row) => row.id));
  }
  if (started.length + skipped.length + expired.length + scratchDropped.length > 0) {
    deps.log.info({ started, skipped, expired, scratchDropped }, "backup schedule pass");
  }
  return { started, skipped, expired, scratchDropped };
}

/**
 * Scheduled backups beyond each database's retention are deleted through backup__delete. Three queries and one
 * transaction for all the deletions, whatever the number of databases.
 */
async function enforceRetention(db: Db): Promise<string[]> {
  const backups = await db.backup.findMany({
    where: {
      kind: "postgres",
      trigger: "scheduled",
      databaseId: { not: null },
      status: { in: ["verified", "failed"] },
    },
    select: { id: true, teamId: true, databaseId: true, status: true, startedAt: true },
  });
  if (backups.length === 0) return [];
  const databaseIds = [...new Set(backups.map((row) => row.databaseId).filter((id): id is string => id !== null))];
  const settings = await db.tenantDatabase.findMany({
    where: { id: { in: databaseIds } },
    select: { id: true, backupKeepDaily: true, backupKeepWeekly: true },
  });
  const byDatabase = new Map(settings.map((row) => [row.id, row]));
  const victims = databaseIds.flatMap((databaseId) => {
    const keep = byDatabase.get(databaseId);
    if (!keep) return [];
    const mine = backups.filter((row) => row.databaseId === databaseId);
    return retentionVictims(mine, keep.backupKeepDaily, keep.backupKeepWeekly);
  });
  if (victims.length === 0) return [];
  const pending = await db.operation.findMany({
    where: { kind: "backup.delete", targetId: { in: victims }, status: { in: ["queued", "running"] } },
    select: { targetId: true },
  });
  const already = new Set(pending.map((row) => row.targetId));
  const fresh = victims.filter((id) => !already.has(id));
  const teamOf = new Map(backups.map((row) => [row.id, row.teamId]));
  await db.$transaction(async (tx) => {
    for (const backupId of fresh) {
      const operation = await createOperation(tx, {
        kind: "backup.delete",
        teamId: teamOf.get(backupId) ?? null,
        target: { type: "backup", id: backupId },
      });
      await enqueue(tx, "backup__delete", { backupId, operationId: operation.id });
    }
  });
  return fresh;
}
