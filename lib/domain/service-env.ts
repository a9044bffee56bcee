// The environment an app receives from its attached database and Redis, for the release pipeline to merge into the
// container's environment (these keys are reserved in app-rules.ts, so users cannot set them). Worker side: no
// ctx, no authorization; never log what it returns. Also the restart requests that follow a change of them.
import { decryptSecret } from "@/lib/crypto";
import type { Db, Tx } from "@/lib/db";
import type { Ctx } from "@/lib/domain/context";
import { requestRestart } from "@/lib/domain/lifecycle";
import { CREDENTIAL_STATUSES, serviceUnavailable } from "@/lib/domain/tenant-service-rules";
import { tenantConnectionInfo } from "@/lib/infra/tenant-postgres/names";
import { tenantRedisConnectionInfo } from "@/lib/infra/tenant-redis/names";
import { tenantPostgresConfig, tenantRedisConfig } from "@/lib/services/tenant-services";

/**
 * DATABASE_URL with PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE for an attached database, REDIS_URL with REDIS_HOST
 * REDIS_PORT REDIS_USER REDIS_PASSWORD REDIS_KEY_PREFIX for an attached Redis; empty when nothing is attached.
 *
 * A failed database keeps its variables: after a failed rotation it still exists, and an app that silently lost
 * DATABASE_URL may fall back to a throwaway local database, which is worse than a connection error.
 */
export async function resolveServiceEnvForApp(db: Db | Tx, appId: string): Promise<Record<string, string>> {
  const app = await db.app.findUnique({ where: { id: appId }, select: { teamId: true } });
  if (!app) return {};
  // Scoped by the app's team too: attachment checks it, and this keeps a bad row from crossing teams anyway.
  const where = { appId, teamId: app.teamId, status: { in: [...CREDENTIAL_STATUSES] } };
  const orderBy = [{ createdAt: "asc" as const }, { id: "asc" as const }];
  const [database, redis] = await Promise.all([
    db.tenantDatabase.findFirst({ where, orderBy, select: { id: true, passwordEncrypted: true } }),
    db.tenantRedis.findFirst({ where, orderBy, select: { id: true, passwordEncrypted: true } }),
  ]);

  const env: Record<string, string> = {};
  if (database?.passwordEncrypted) {
    const config = tenantPostgresConfig();
    if (!config) throw serviceUnavailable("database");
    const info = tenantConnectionInfo({
      host: config.publicHost,
      port: config.publicPort,
      resourceId: database.id,
      password: decryptSecret(database.passwordEncrypted),
    });
    Object.assign(env, {
      DATABASE_URL: info.url,
      PGHOST: info.host,
      PGPORT: String(info.port),
      PGUSER: info.user,
      PGPASSWORD: info.password,
      PGDATABASE: info.database,
    });
  }
  if (redis?.passwordEncrypted) {
    const config = tenantRedisConfig();
    if (!config) throw serviceUnavailable("redis");
    const info = tenantRedisConnectionInfo({
      host: config.publicHost,
      port: config.publicPort,
      resourceId: redis.id,
      password: decryptSecret(redis.passwordEncrypted),
    });
    Object.assign(env, {
      REDIS_URL: info.url,
      REDIS_HOST: info.host,
      REDIS_PORT: String(info.port),
      REDIS_USER: info.user,
      REDIS_PASSWORD: info.password,
      REDIS_KEY_PREFIX: info.keyPrefix,
    });
  }
  return env;
}

/**
 * Restarts the team's running apps among `appIds` because a user's change altered the variables above for them (a
 * database or Redis attached, detached or deleted), in the caller's transaction: lifecycle's restart starts fresh
 * containers, which read resolveServiceEnvForApp again. Apps that are not running pick the change up when they
 * start. Changes the worker completes (ready, password rotated) use lifecycle's requestSystemRestart instead.
 */
export async function restartAppsForServiceChange(tx: Tx, ctx: Ctx, appIds: readonly (string | null)[]): Promise<void> {
  const ids = [...new Set(appIds.filter((id): id is string => id !== null))];
  if (ids.length === 0) return;
  const apps = await tx.app.findMany({ where: { id: { in: ids }, teamId: ctx.teamId }, orderBy: { id: "asc" } });
  for (const app of apps) {
    if (app.status === "running" && app.currentDeploymentId) await requestRestart(tx, ctx, app, "env_changed");
  }
}
