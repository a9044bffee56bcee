// Tenant Redis: an ACL user confined to its key prefix on the shared server. Create, list, show, attach to an app,
// rotate the password, reveal the credentials, delete: the same shape as lib/domain/databases.ts. Every change writes
// its intent and enqueues its job (jobs/tasks/tenant_redis__*.ts) in one transaction; the password is stored sealed
// before the job runs, so a retried job applies the same password.
import { randomBytes } from "node:crypto";
import { enqueue } from "@/jobs/enqueue";
import { decryptSecret, encryptSecret } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import { recordAudit } from "@/lib/domain/audit";
import { authorize, type Ctx } from "@/lib/domain/context";
import { createOperation } from "@/lib/domain/operations";
import { afterCursor, type Page, type PageInput, toPage } from "@/lib/domain/pagination";
import { enforceRedisQuota } from "@/lib/domain/quotas";
import { restartAppsForServiceChange } from "@/lib/domain/service-env";
import {
  busyConflict,
  CREDENTIAL_STATUSES,
  lockAppForAttachment,
  parseOrInvalid,
  serviceName,
  serviceNotFound,
  serviceUnavailable,
} from "@/lib/domain/tenant-service-rules";
import { AppError } from "@/lib/errors";
import { type Operation, Prisma, type TenantRedis } from "@/lib/generated/prisma/client";
import { tenantRedisConnectionInfo } from "@/lib/infra/tenant-redis/names";
import type { TenantRedisConnectionInfo } from "@/lib/infra/tenant-redis/types";
import { type TenantRedisConfig, tenantRedisConfig } from "@/lib/services/tenant-services";

export type RedisView = {
  id: string;
  name: string;
  status: TenantRedis["status"];
  appId: string | null;
  /** Why the last provisioning, rotation or deletion failed, readable by people. */
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
};

export function redisView(row: TenantRedis): RedisView {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    appId: row.appId,
    error: row.error,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const TARGET = "redis";

/** 32 random bytes, base64url: far above the adapter's minimum, and nothing to escape in a URL. */
function generateRedisPassword(): string {
  return randomBytes(32).toString("base64url");
}

function requireConfig(): TenantRedisConfig {
  const config = tenantRedisConfig();
  if (!config) throw serviceUnavailable("redis");
  return config;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}

function checkId(id: string): void {
  // Not a UUID names nothing; without this PostgreSQL would answer the cast with an error (a 500).
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw serviceNotFound("redis");
}

/** Locks the team's row for the rest of the transaction: concurrent rotations, attachments and deletions queue. */
async function lockRedis(tx: Tx, ctx: Ctx, id: string): Promise<TenantRedis> {
  await tx.$queryRaw`SELECT id FROM "TenantRedis" WHERE id = ${id}::uuid AND "teamId" = ${ctx.teamId}::uuid FOR UPDATE`;
  const row = await tx.tenantRedis.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("redis");
  return row;
}

export async function createRedis(
  db: Db,
  ctx: Ctx,
  input: { name: string; appId?: string | null },
): Promise<{ redis: RedisView; operation: Operation }> {
  authorize(ctx, "databases:manage");
  const name = parseOrInvalid(serviceName, input.name, "name");
  requireConfig();
  const passwordEncrypted = encryptSecret(generateRedisPassword());
  try {
    return await db.$transaction(async (tx) => {
      // The team's row first (every quota check takes it first), then the app's.
      await enforceRedisQuota(tx, ctx.teamId);
      const appId = input.appId ?? null;
      if (appId) await lockAppForAttachment(tx, { teamId: ctx.teamId, appId, kind: "redis" });
      const row = await tx.tenantRedis.create({
        data: { teamId: ctx.teamId, name, appId, passwordEncrypted, status: "provisioning" },
      });
      const operation = await createOperation(tx, {
        kind: "redis.provision",
        teamId: ctx.teamId,
        target: { type: TARGET, id: row.id },
        requestId: ctx.meta.requestId,
      });
      await enqueue(tx, "tenant_redis__provision", { redisId: row.id, operationId: operation.id });
      await recordAudit(tx, ctx, {
        action: "redis.created",
        target: { type: TARGET, id: row.id },
        metadata: { name, appId },
      });
      return { redis: redisView(row), operation };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", `A Redis instance named "${name}" already exists.`);
    throw error;
  }
}

export async function listRedis(db: Db, ctx: Ctx, page: PageInput): Promise<Page<RedisView>> {
  authorize(ctx, "databases:read");
  const rows = await db.tenantRedis.findMany({
    where: { teamId: ctx.teamId, ...afterCursor(page.cursor) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: page.limit + 1,
  });
  return toPage(rows, page.limit, redisView);
}

export async function getRedis(db: Db, ctx: Ctx, id: string): Promise<RedisView> {
  authorize(ctx, "databases:read");
  checkId(id);
  const row = await db.tenantRedis.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("redis");
  return redisView(row);
}

/** Attaches the instance to an app of the team (`appId`), or detaches it (`null`). Takes effect at a restart. */
export async function updateRedis(db: Db, ctx: Ctx, id: string, input: { appId: string | null }): Promise<RedisView> {
  authorize(ctx, "databases:manage");
  checkId(id);
  return await db.$transaction(async (tx) => {
    const before = await lockRedis(tx, ctx, id);
    if (before.status === "deleting") throw busyConflict("redis", before.status);
    if (before.appId === input.appId) return redisView(before);
    if (input.appId) {
      await lockAppForAttachment(tx, { teamId: ctx.teamId, appId: input.appId, kind: "redis", serviceId: id });
    }
    const row = await tx.tenantRedis.update({ where: { id }, data: { appId: input.appId } });
    await recordAudit(tx, ctx, {
      action: input.appId ? "redis.attached" : "redis.detached",
      target: { type: TARGET, id },
      metadata: { appId: input.appId, previousAppId: before.appId },
    });
    // While provisioning there is nothing to inject yet: the app gets the variables once it is ready.
    if (CREDENTIAL_STATUSES.some((status) => status === row.status)) {
      await restartAppsForServiceChange(tx, ctx, [before.appId, input.appId]);
    }
    return redisView(row);
  });
}

/**
 * A new password, applied by tenant_redis__rotate, which also disconnects every client of the old one and then
 * restarts the attached app.
 */
export async function rotateRedisPassword(
  db: Db,
  ctx: Ctx,
  id: string,
): Promise<{ redis: RedisView; operation: Operation }> {
  authorize(ctx, "databases:manage");
  checkId(id);
  requireConfig();
  const passwordEncrypted = encryptSecret(generateRedisPassword());
  return await db.$transaction(async (tx) => {
    const before = await lockRedis(tx, ctx, id);
    if (before.status === "provisioning" || before.status === "deleting") throw busyConflict("redis", before.status);
    const row = await tx.tenantRedis.update({ where: { id }, data: { passwordEncrypted } });
    const operation = await createOperation(tx, {
      kind: "redis.rotate",
      teamId: ctx.teamId,
      target: { type: TARGET, id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "tenant_redis__rotate", { redisId: id, operationId: operation.id });
    await recordAudit(tx, ctx, { action: "redis.credentials_rotated", target: { type: TARGET, id } });
    return { redis: redisView(row), operation };
  });
}

/** Marks the instance for deletion; tenant_redis__deprovision removes the user and its keys, then the row. */
export async function deleteRedis(
  db: Db,
  ctx: Ctx,
  id: string,
  options: { confirmName?: string } = {},
): Promise<{ redis: RedisView; operation: Operation }> {
  authorize(ctx, "databases:manage");
  checkId(id);
  return await db.$transaction(async (tx) => {
    const row = await lockRedis(tx, ctx, id);
    if (options.confirmName !== undefined && options.confirmName !== row.name) {
      throw new AppError("invalid", "Type the Redis instance's name to confirm.", {
        details: [{ path: "confirmName", message: "does not match the instance's name" }],
      });
    }
    const existing = await tx.operation.findFirst({
      where: { teamId: ctx.teamId, kind: "redis.delete", targetId: id, status: { in: ["queued", "running"] } },
    });
    if (row.status === "deleting" && existing) return { redis: redisView(row), operation: existing };
    const updated = await tx.tenantRedis.update({ where: { id }, data: { status: "deleting", error: null } });
    const operation = await createOperation(tx, {
      kind: "redis.delete",
      teamId: ctx.teamId,
      target: { type: TARGET, id },
      requestId: ctx.meta.requestId,
    });
    await enqueue(tx, "tenant_redis__deprovision", { redisId: id, operationId: operation.id });
    await recordAudit(tx, ctx, {
      action: "redis.deletion_requested",
      target: { type: TARGET, id },
      metadata: { name: row.name, appId: row.appId },
    });
    // Its variables are gone from now on (resolveServiceEnvForApp skips deleting rows).
    if (CREDENTIAL_STATUSES.some((status) => status === row.status)) {
      await restartAppsForServiceChange(tx, ctx, [row.appId]);
    }
    return { redis: redisView(updated), operation };
  });
}

/** The connection details with the password: admins (and write tokens) only, audited, never logged. */
export async function revealRedisCredentials(db: Db, ctx: Ctx, id: string): Promise<TenantRedisConnectionInfo> {
  authorize(ctx, "databases:manage");
  checkId(id);
  const config = requireConfig();
  const row = await db.tenantRedis.findFirst({ where: { id, teamId: ctx.teamId } });
  if (!row) throw serviceNotFound("redis");
  if (!row.passwordEncrypted || !CREDENTIAL_STATUSES.some((status) => status === row.status)) {
    throw busyConflict("redis", row.status);
  }
  const info = tenantRedisConnectionInfo({
    host: config.publicHost,
    port: config.publicPort,
    resourceId: row.id,
    password: decryptSecret(row.passwordEncrypted),
  });
  await recordAudit(db, ctx, { action: "redis.credentials_revealed", target: { type: TARGET, id } });
  return info;
}
