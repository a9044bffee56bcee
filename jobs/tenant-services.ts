// What the tenant_db__* and tenant_redis__* tasks share: which failures are worth a retry, opening the sealed
// password, and the configured servers. Not a task itself (jobs/tasks holds one file per task).
import type { Logger } from "pino";
import { decryptSecret } from "@/lib/crypto";
import type { Db } from "@/lib/db";
import { serviceUnavailable } from "@/lib/domain/tenant-service-rules";
import { AppError } from "@/lib/errors";
import { deprovisionTenantDatabase, TenantPostgresError } from "@/lib/infra/tenant-postgres";
import { deprovisionTenantRedis, TenantRedisError } from "@/lib/infra/tenant-redis";
import {
  type TenantPostgresConfig,
  type TenantRedisConfig,
  tenantPostgresConfig,
  tenantRedisConfig,
} from "@/lib/services/tenant-services";

/**
 * The user-readable reason when `error` should end the job now, or null to let graphile-worker retry it with
 * backoff. The adapters say which of their failures are transient (server restarting, lock conflicts); the rest
 * (permissions, a misconfigured server, an unexpected answer) need a person, so retrying only delays the answer.
 */
export function finalReason(error: unknown): string | null {
  // The one failure vocabulary (lib/errors.ts): a final AppError is for the user; a retryable one is tried again.
  if (error instanceof AppError) return error.retryable ? null : error.message;
  if (error instanceof TenantPostgresError || error instanceof TenantRedisError) {
    return error.retryable ? null : error.userMessage;
  }
  return null;
}

/** The stored password; unreadable means TUSSILAGO_SECRET_KEY changed, which no retry repairs. */
export function openPassword(sealed: string | null): string {
  if (!sealed)
    throw new AppError("conflict", "No password is stored for this resource. Rotate its password to set one.");
  try {
    return decryptSecret(sealed);
  } catch {
    throw new AppError(
      "conflict",
      "The stored password cannot be decrypted (was TUSSILAGO_SECRET_KEY changed?). Rotate the password to set a new one.",
    );
  }
}

// serviceUnavailable is a retryable AppError: the worker may be restarted with the configuration in the meantime, and
// when the attempts run out giveUpReason shows its message.
export function requirePostgres(): TenantPostgresConfig {
  const config = tenantPostgresConfig();
  if (!config) throw serviceUnavailable("database");
  return config;
}

export function requireRedis(): TenantRedisConfig {
  const config = tenantRedisConfig();
  if (!config) throw serviceUnavailable("redis");
  return config;
}

/** Log fields of an adapter error (its toLog never holds a secret); other errors go to pino's serializer. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof TenantPostgresError || error instanceof TenantRedisError) return { failure: error.toLog() };
  return { err: error };
}

/**
 * Removes every database and Redis user of a team that is being deleted, before its rows cascade away with the
 * team: nothing would remember them afterwards. Rows are marked deleting first, so a provision or rotation job that
 * starts later stops at its status check. One already mid-step could still finish after this and leave a role
 * behind; the hourly tenant_services__sweep removes such `t_<hex>` roles, databases and users without a row.
 */
export async function removeTeamServices(db: Db, teamId: string, log: Logger): Promise<void> {
  await db.tenantDatabase.updateMany({ where: { teamId }, data: { status: "deleting" } });
  await db.tenantRedis.updateMany({ where: { teamId }, data: { status: "deleting" } });
  const databases = await db.tenantDatabase.findMany({ where: { teamId }, select: { id: true } });
  if (databases.length > 0) {
    const config = requirePostgres();
    for (const { id } of databases) {
      await deprovisionTenantDatabase(config.adminUrl, { resourceId: id });
      await db.tenantDatabase.deleteMany({ where: { id } });
      log.info({ teamId, databaseId: id }, "tenant database deleted with its team");
    }
  }
  const instances = await db.tenantRedis.findMany({ where: { teamId }, select: { id: true } });
  if (instances.length > 0) {
    const config = requireRedis();
    for (const { id } of instances) {
      await deprovisionTenantRedis(config.admin, { resourceId: id });
      await db.tenantRedis.deleteMany({ where: { id } });
      log.info({ teamId, redisId: id }, "tenant Redis deleted with its team");
    }
  }
}
