// Backups of tenant databases and exports of tenant Redis (#16): take one now, list, show, delete, restore into a new
// database or over the original, download. Every change writes its intent (a Backup row, an Operation) and enqueues
// its job in one transaction; the jobs (jobs/tasks/backup__*.ts, redis__*.ts) dump, verify, store and restore. Members
// list and take backups; admins delete, restore and download (what overwrites or carries a team's data). A tenant
// never names a file, a path or a target database: only "new" or "same", and IDs the platform gave it.
import { enqueue } from "@/jobs/enqueue";
import { encryptSecret } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import {
  ACTIVE_BACKUP_STATUSES,
  type BackupSettingsInput,
  type BackupView,
  backupSettingsInput,
  backupStorageKey,
  backupView,
  downloadFileName,
  effectiveSchedule,
  nextBackupAt,
} from "@/lib/domain/backup-rules";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { decodeCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { enforceBackupQuota, enforceDatabaseQuota } from "@/lib/domain/quotas";
import { parseOrInvalid, serviceName, serviceNotFound } from "@/lib/domain/tenant-service-rules";
import { AppError } from "@/lib/errors";
import type { Backup, Operation, TenantDatabase } from "@/lib/generated/prisma/client";
import { generateTenantPassword } from "@/lib/infra/tenant-postgres/names";

const TARGET = "backup";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function backupNotFound(): AppError {
  return new AppError("not_found", "Backup not found.");
}

async function findBackupOrThrow(db: Db | Tx, ctx: Ctx, id: string): Promise<Backup> {
  // Not a UUID names nothing; PostgreSQL would answer the cast with an error (a 500).
  if (!UUID.test(id)) throw backupNotFound();
  const row = await db.backup.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw backupNotFound();
  return row;
}

/** Locks the database's row: two "Back up now" at once, or a backup and a restore, queue behind each other. */
async function lockDatabaseOrThrow(tx: Tx, ctx: Ctx, id: string): Promise<TenantDatabase> {
  if (!UUID.test(id)) throw serviceNotFound("database");
  await tx.$queryRaw`SELECT id FROM "TenantDatabase" WHERE id = ${id}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
  const row = await tx.tenantDatabase.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("database");
  return row;
}

function requireReady(row: TenantDatabase): void {
  if (row.status === "ready") return;
  const why =
    row.status === "provisioning"
      ? "is still being created"
      : row.status === "deleting"
        ? "is being deleted"
        : "is in a failed state (rotate its credentials to repair it)";
  throw new AppError("conflict", `The database ${why}; it cannot be backed up or restored now.`);
}

/** 409 when a backup of this database is running or verifying: one at a time, so two dumps never compete. */
export async function refuseWhileBackupRunning(tx: Tx, databaseId: string): Promise<void> {
  const active = await tx.backup.findFirst({
    where: { databaseId, status: { in: [...ACTIVE_BACKUP_STATUSES] } },
    select: { id: true },
  });
  if (active) {
    throw new AppError("conflict", "A backup of this database is already running; wait until it has finished.", {
      details: { backupId: active.id },
    });
  }
}

/**
 * Writes a running backup and queues backup__run with its operation; the caller holds the database's lock. A safety
 * backup gets neither: backup__restore runs it first itself, so the order is guaranteed.
 */
export async function startBackupInTx(
  tx: Tx,
  input: {
    teamId: string;
    database: TenantDatabase;
    trigger: Backup["trigger"];
    createdById: string | null;
    requestId?: string;
  },
): Promise<{ backup: Backup; operation: Operation | null }> {
  const created = await tx.backup.create({
    data: {
      teamId: input.teamId,
      kind: "postgres",
      databaseId: input.database.id,
      sourceName: input.database.name,
      trigger: input.trigger,
      status: "running",
      createdById: input.createdById,
    },
  });
  const backup = await tx.backup.update({ where: { id: created.id }, data: { storageKey: backupStorageKey(created) } });
  if (input.trigger === "safety") return { backup, operation: null };
  const operation = await createOperation(tx, {
    kind: "backup.run",
    teamId: input.teamId,
    target: { type: TARGET, id: backup.id },
    requestId: input.requestId,
  });
  await enqueue(tx, "backup__run", { backupId: backup.id, operationId: operation.id });
  return { backup, operation };
}

export async function createBackup(
  db: Db,
  ctx: Ctx,
  databaseId: string,
): Promise<{ backup: BackupView; operation: Operation }> {
  authorize(ctx, "backups:create");
  return await db.$transaction(async (tx) => {
    // The team's row first (every quota check takes it first), then the database's.
    await enforceBackupQuota(tx, ctx.teamId);
    const database = await lockDatabaseOrThrow(tx, ctx, databaseId);
    requireReady(database);
    await refuseWhileBackupRunning(tx, database.id);
    const { backup, operation } = await startBackupInTx(tx, {
      teamId: ctx.teamId,
      database,
      trigger: "manual",
      createdById: actorUserId(ctx),
      requestId: ctx.meta.requestId,
    });
    if (!operation) throw new AppError("internal", "The backup was not queued.");
    await recordAudit(tx, ctx, {
      action: "backup.created",
      target: { type: TARGET, id: backup.id },
      metadata: { databaseId: database.id, name: database.name },
    });
    return { backup: backupView(backup), operation };
  });
}

/** The database's backups and Redis's exports, newest first. Two queries whatever the page size. */
export async function listDatabaseBackups(
  db: Db,
  ctx: Ctx,
  databaseId: string,
  page: PageInput,
): Promise<Page<BackupView>> {
  authorize(ctx, "databases:read");
  if (!UUID.test(databaseId)) throw serviceNotFound("database");
  const database = await db.tenantDatabase.findFirst({
    where: { id: databaseId, teamId: ctx.teamId },
    select: { id: true },
  });
  if (!database) throw serviceNotFound("database");
  return await listBackupsWhere(db, { teamId: ctx.teamId, databaseId }, page);
}

export async function listRedisExports(db: Db, ctx: Ctx, redisId: string, page: PageInput): Promise<Page<BackupView>> {
  authorize(ctx, "databases:read");
  if (!UUID.test(redisId)) throw serviceNotFound("redis");
  const redis = await db.tenantRedis.findFirst({ where: { id: redisId, teamId: ctx.teamId }, select: { id: true } });
  if (!redis) throw serviceNotFound("redis");
  return await listBackupsWhere(db, { teamId: ctx.teamId, redisId }, page);
}

async function listBackupsWhere(
  db: Db,
  where: { teamId: string; databaseId?: string; redisId?: string },
  page: PageInput,
): Promise<Page<BackupView>> {
  const after = decodeCursor(page.cursor);
  const rows = await db.backup.findMany({
    where: {
      ...where,
      ...(after
        ? { OR: [{ startedAt: { lt: after.createdAt } }, { startedAt: after.createdAt, id: { lt: after.id } }] }
        : {}),
    },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  // The keyset is (startedAt, id): the cursor helper calls its time field createdAt.
  return toPage(
    rows.map((row) => ({ ...row, createdAt: row.startedAt })),
    page.limit,
    backupView,
  );
}

export async function getBackup(db: Db, ctx: Ctx, id: string): Promise<BackupView> {
  authorize(ctx, "databases:read");
  return backupView(await findBackupOrThrow(db, ctx, id));
}

/** The newest backup of the database, for the page's warning when it failed or is not verified. One query. */
export async function latestBackup(db: Db, ctx: Ctx, databaseId: string): Promise<BackupView | null> {
  authorize(ctx, "databases:read");
  if (!UUID.test(databaseId)) return null;
  const row = await db.backup.findFirst({
    where: { teamId: ctx.teamId, databaseId, kind: "postgres", trigger: { not: "safety" } },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
  });
  return row ? backupView(row) : null;
}

/** Queues backup__delete (the stored object, then the row). A backup in progress cannot be deleted. */
export async function deleteBackup(db: Db, ctx: Ctx, id: string): Promise<{ operation: Operation }> {
  authorize(ctx, "databases:manage");
  return await db.$transaction(async (tx) => {
    const row = await findBackupOrThrow(tx, ctx, id);
    if (row.status === "running" || row.status === "verifying") {
      throw new AppError("conflict", "The backup is still running; delete it once it has finished.");
    }
    const pending = await tx.operation.findFirst({
      where: { teamId: ctx.teamId, kind: "backup.delete", targetId: id, status: { in: ["queued", "running"] } },
    });
    if (pending) return { operation: pending };
    const operation = await createOperation(tx, {
      kind: "backup.delete",
      teamId: ctx.teamId,
      target: { type: TARGET, id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "backup__delete", { backupId: id, operationId: operation.id });
    await recordAudit(tx, ctx, {
      action: "backup.deletion_requested",
      target: { type: TARGET, id },
      metadata: { sourceName: row.sourceName, databaseId: row.databaseId, redisId: row.redisId },
    });
    return { operation };
  });
}

export type RestoreInput = { target: "new"; name?: string | undefined } | { target: "same" };

export type RestoreResult = {
  operation: Operation;
  /** The database restored into: the new one, or the original. */
  databaseId: string;
  /** "same" only: the backup taken of the database just before it is overwritten. */
  safetyBackupId: string | null;
};

/**
 * "new": a database of the team (quota-checked here) is created and provisioned like any other, then the dump is
 * restored into it. "same": a safety backup of the database is taken first, then the dump replaces its contents
 * while the app's connections are closed and new ones refused (the adapter's doing).
 */
export async function restoreBackup(db: Db, ctx: Ctx, id: string, input: RestoreInput): Promise<RestoreResult> {
  authorize(ctx, "databases:manage");
  const name =
    input.target === "new" && input.name !== undefined ? parseOrInvalid(serviceName, input.name, "name") : null;
  return await db.$transaction(async (tx) => {
    if (input.target === "new") await enforceDatabaseQuota(tx, ctx.teamId, { newLimit: 20, previousLimit: null });
    const backup = await findBackupOrThrow(tx, ctx, id);
    if (backup.kind !== "postgres") {
      throw new AppError("conflict", "A Redis export is imported into a Redis instance, not restored.");
    }
    if (backup.status !== "verified") {
      throw new AppError("conflict", "Only a verified backup can be restored.");
    }
    const target =
      input.target === "new" ? await newTargetInTx(tx, ctx, backup, name) : await sameTargetInTx(tx, ctx, backup);
    const operation = await createOperation(tx, {
      kind: "backup.restore",
      teamId: ctx.teamId,
      target: { type: "database", id: target.databaseId },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "backup__restore", {
      backupId: backup.id,
      operationId: operation.id,
      databaseId: target.databaseId,
      ...(target.safetyBackupId ? { safetyBackupId: target.safetyBackupId } : {}),
    });
    await recordAudit(tx, ctx, {
      action: "backup.restore_requested",
      target: { type: TARGET, id: backup.id },
      metadata: { target: input.target, databaseId: target.databaseId, safetyBackupId: target.safetyBackupId },
    });
    return { operation, ...target };
  });
}

async function newTargetInTx(
  tx: Tx,
  ctx: Ctx,
  backup: Backup,
  name: string | null,
): Promise<{ databaseId: string; safetyBackupId: null }> {
  const chosen = name ?? (await freeRestoreName(tx, ctx.teamId, backup.sourceName));
  const taken = await tx.tenantDatabase.findFirst({
    where: { teamId: ctx.teamId, name: chosen },
    select: { id: true },
  });
  if (taken) throw new AppError("conflict", `A database named "${chosen}" already exists.`);
  const row = await tx.tenantDatabase.create({
    data: {
      teamId: ctx.teamId,
      name: chosen,
      passwordEncrypted: encryptSecret(generateTenantPassword()),
      status: "provisioning",
    },
  });
  const operation = await createOperation(tx, {
    kind: "database.provision",
    teamId: ctx.teamId,
    target: { type: "database", id: row.id },
    requestId: ctx.meta.requestId,
  });
  await enqueue(tx, "tenant_db__provision", { databaseId: row.id, operationId: operation.id });
  await recordAudit(tx, ctx, {
    action: "database.created",
    target: { type: "database", id: row.id },
    metadata: { name: chosen, restoredFrom: backup.id },
  });
  return { databaseId: row.id, safetyBackupId: null };
}

/** `<source>-restored`, then `-2`, `-3`…: a valid service name (at most 40 characters) not used by the team. */
async function freeRestoreName(tx: Tx, teamId: string, source: string): Promise<string> {
  const base = `${source.slice(0, 28)}-restored`;
  const existing = await tx.tenantDatabase.findMany({
    where: { teamId, name: { startsWith: base } },
    select: { name: true },
  });
  const names = new Set(existing.map((row) => row.name));
  if (!names.has(base)) return base;
  for (let n = 2; ; n += 1) if (!names.has(`${base}-${n}`)) return `${base}-${n}`;
}

async function sameTargetInTx(
  tx: Tx,
  ctx: Ctx,
  backup: Backup,
): Promise<{ databaseId: string; safetyBackupId: string }> {
  if (!backup.databaseId) {
    throw new AppError("conflict", "The backup's database was deleted; restore it into a new database instead.");
  }
  const database = await lockDatabaseOrThrow(tx, ctx, backup.databaseId);
  requireReady(database);
  await refuseWhileBackupRunning(tx, database.id);
  const pending = await tx.operation.findFirst({
    where: { teamId: ctx.teamId, kind: "backup.restore", targetId: database.id, status: { in: ["queued", "running"] } },
    select: { id: true },
  });
  if (pending) throw new AppError("conflict", "A restore into this database is already in progress.");
  const { backup: safety } = await startBackupInTx(tx, {
    teamId: ctx.teamId,
    database,
    trigger: "safety",
    createdById: actorUserId(ctx),
    requestId: ctx.meta.requestId,
  });
  return { databaseId: database.id, safetyBackupId: safety.id };
}

/**
 * What a download streams: the store's key and a safe file name. Admins only, audited before the first byte; the
 * route handler opens the store (the domain does no I/O) and never shows the key.
 */
export async function prepareBackupDownload(
  db: Db,
  ctx: Ctx,
  id: string,
): Promise<{ storageKey: string; fileName: string; backup: BackupView }> {
  authorize(ctx, "databases:manage");
  const row = await findBackupOrThrow(db, ctx, id);
  if ((row.status !== "verified" && row.status !== "succeeded") || !row.storageKey) {
    throw new AppError("conflict", "Only a finished, successful backup can be downloaded.");
  }
  await recordAudit(db, ctx, { action: "backup.downloaded", target: { type: TARGET, id } });
  return { storageKey: row.storageKey, fileName: downloadFileName(row), backup: backupView(row) };
}

/** Applies `PATCH /api/v1/databases/{id}` `backups` inside its transaction; the row is locked by the caller. */
export async function changeBackupSettingsInTx(
  tx: Tx,
  ctx: Ctx,
  before: TenantDatabase,
  input: BackupSettingsInput,
): Promise<TenantDatabase> {
  const change = parseOrInvalid(backupSettingsInput, input, "backups");
  const schedule = change.schedule === undefined ? before.backupSchedule : change.schedule;
  const enabled = change.enabled ?? before.backupEnabled;
  const data = {
    backupSchedule: schedule,
    backupEnabled: enabled,
    backupKeepDaily: change.keepDaily ?? before.backupKeepDaily,
    backupKeepWeekly: change.keepWeekly ?? before.backupKeepWeekly,
    backupNextAt: enabled
      ? nextBackupAt(effectiveSchedule({ id: before.id, backupSchedule: schedule }), new Date())
      : null,
  };
  const row = await tx.tenantDatabase.update({ where: { id: before.id }, data });
  await recordAudit(tx, ctx, {
    action: "database.backup_settings_changed",
    target: { type: "database", id: before.id },
    metadata: {
      schedule: data.backupSchedule,
      enabled: data.backupEnabled,
      keepDaily: data.backupKeepDaily,
      keepWeekly: data.backupKeepWeekly,
    },
  });
  return row;
}
