// Redis export and import (#16): a tenant Redis's keys (values and TTLs) written to the backup store on demand, and
// written back into a Redis of the same team. For moving data between instances, not a verified backup: Redis has no
// snapshot of one user's prefix, so an export taken while the app writes is a best-effort copy (docs/backups.md).
// Exports are Backup rows of kind redis (running -> succeeded | failed) and count against the backup quota.
import { enqueue } from "@/jobs/enqueue";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { type BackupView, backupStorageKey, backupView } from "@/lib/domain/backup-rules";
import { backupNotFound } from "@/lib/domain/backups";
import { actorUserId, authorize, type Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { enforceBackupQuota } from "@/lib/domain/quotas";
import { serviceNotFound } from "@/lib/domain/tenant-service-rules";
import { AppError } from "@/lib/errors";
import type { Operation, TenantRedis } from "@/lib/generated/prisma/client";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function lockReadyRedis(tx: Tx, ctx: Ctx, id: string): Promise<TenantRedis> {
  if (!UUID.test(id)) throw serviceNotFound("redis");
  await tx.$queryRaw`SELECT id FROM "TenantRedis" WHERE id = ${id}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
  const row = await tx.tenantRedis.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("redis");
  if (row.status !== "ready") throw new AppError("conflict", "The Redis instance is not ready.");
  return row;
}

async function refuseWhileRedisBusy(tx: Tx, redisId: string): Promise<void> {
  const active = await tx.backup.findFirst({ where: { redisId, status: "running" }, select: { id: true } });
  if (active) throw new AppError("conflict", "An export of this Redis instance is already running.");
  const importing = await tx.operation.findFirst({
    where: { kind: "redis.import", targetId: redisId, status: { in: ["queued", "running"] } },
    select: { id: true },
  });
  if (importing) throw new AppError("conflict", "An import into this Redis instance is in progress.");
}

/** Members may export (it copies, changes nothing). */
export async function createRedisExport(
  db: Db,
  ctx: Ctx,
  redisId: string,
): Promise<{ export: BackupView; operation: Operation }> {
  authorize(ctx, "backups:create");
  return await db.$transaction(async (tx) => {
    await enforceBackupQuota(tx, ctx.teamId);
    const redis = await lockReadyRedis(tx, ctx, redisId);
    await refuseWhileRedisBusy(tx, redis.id);
    const created = await tx.backup.create({
      data: {
        teamId: ctx.teamId,
        kind: "redis",
        redisId: redis.id,
        sourceName: redis.name,
        trigger: "manual",
        status: "running",
        createdById: actorUserId(ctx),
      },
    });
    const row = await tx.backup.update({ where: { id: created.id }, data: { storageKey: backupStorageKey(created) } });
    const operation = await createOperation(tx, {
      kind: "redis.export",
      teamId: ctx.teamId,
      target: { type: "backup", id: row.id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "redis__export", { backupId: row.id, operationId: operation.id });
    await recordAudit(tx, ctx, {
      action: "redis.exported",
      target: { type: "redis", id: redis.id },
      metadata: { backupId: row.id, name: redis.name },
    });
    return { export: backupView(row), operation };
  });
}

/**
 * Admins only: "replace" empties the instance's keys first, "merge" overwrites the exported keys and keeps the rest.
 * The export must be the team's own and have succeeded; another team's ID answers 404 like a missing one.
 */
export async function importRedisExport(
  db: Db,
  ctx: Ctx,
  redisId: string,
  input: { exportId: string; mode: "merge" | "replace" },
): Promise<{ operation: Operation }> {
  authorize(ctx, "databases:manage");
  if (!UUID.test(input.exportId)) throw backupNotFound();
  return await db.$transaction(async (tx) => {
    const redis = await lockReadyRedis(tx, ctx, redisId);
    const source = await tx.backup.findFirst({ where: { id: input.exportId, teamId: ctx.teamId, kind: "redis" } });
    if (!source) throw backupNotFound();
    if (source.status !== "succeeded") throw new AppError("conflict", "Only a finished export can be imported.");
    await refuseWhileRedisBusy(tx, redis.id);
    const operation = await createOperation(tx, {
      kind: "redis.import",
      teamId: ctx.teamId,
      target: { type: "redis", id: redis.id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "redis__import", {
      backupId: source.id,
      redisId: redis.id,
      operationId: operation.id,
      mode: input.mode,
    });
    await recordAudit(tx, ctx, {
      action: "redis.import_requested",
      target: { type: "redis", id: redis.id },
      metadata: { exportId: source.id, mode: input.mode },
    });
    return { operation };
  });
}

/**
 * The team's succeeded Redis exports, newest first, for the Redis page's import choice (an import may take an export
 * of any Redis of the team, including a deleted one). One query; bounded by `limit`.
 */
export async function listTeamRedisExports(db: Db, ctx: Ctx, limit = 50): Promise<BackupView[]> {
  authorize(ctx, "databases:read");
  const rows = await db.backup.findMany({
    where: { teamId: ctx.teamId, kind: "redis", status: "succeeded" },
    orderBy: [{ startedAt: "desc" }, { id: "desc" }],
    take: limit,
  });
  return rows.map(backupView);
}
