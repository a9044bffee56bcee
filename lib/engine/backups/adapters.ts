// The backup engine's dependencies built from the environment, for the task files: the tenant servers' admin
// connections are bound here (the engine only passes resource IDs), the store is the one TUSSILAGO_BACKUP_* names,
// encrypted with the key derived from TUSSILAGO_SECRET_KEY. Temp files live under <data dir>/tmp/backups.
import path from "node:path";
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { serviceUnavailable } from "@/lib/domain/tenant-service-rules";
import { backupStoreConfig, getEnv } from "@/lib/env";
import { backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";
import { dropStaleScratchDatabases, dumpTenantDatabase, restoreDump, verifyDump } from "@/lib/infra/pg-backup";
import { exportTenantRedis, importTenantRedis } from "@/lib/infra/tenant-redis";
import { tenantPostgresConfig, tenantRedisConfig } from "@/lib/services/tenant-services";
import type { BackupDeps, PgBackupAdapter, RedisTransferAdapter } from "./deps";

export function backupTmpDir(dataDir: string): string {
  return path.join(dataDir, "tmp", "backups");
}

/** The tenant PostgreSQL bound, or null when none is configured. */
export function pgBackupAdapter(): PgBackupAdapter | null {
  const config = tenantPostgresConfig();
  if (!config) return null;
  const adminUrl = config.adminUrl;
  const binDir = getEnv().infra.pgBinDir ?? undefined;
  return {
    dumpTenantDatabase: (input) => dumpTenantDatabase({ ...input, adminUrl, binDir }),
    verifyDump: (input) => verifyDump({ ...input, adminUrl, binDir }),
    restoreDump: (input) => restoreDump({ ...input, adminUrl, binDir }),
    dropStaleScratchDatabases: (keep) => dropStaleScratchDatabases(adminUrl, keep),
  };
}

function redisAdapter(): RedisTransferAdapter {
  // Resolved on use: a Redis job fails readably (and retries) when no tenant Redis is configured; the database
  // jobs do not need one.
  const admin = () => {
    const config = tenantRedisConfig();
    if (!config) throw serviceUnavailable("redis");
    return config.admin;
  };
  return {
    exportTenantRedis: (input) => exportTenantRedis({ ...input, admin: admin() }),
    importTenantRedis: (input) => importTenantRedis({ ...input, admin: admin() }),
  };
}

/** Everything a backup job needs. A missing tenant PostgreSQL is a retryable 503-like failure, as for provisioning. */
export function backupDeps(db: Db, log: Logger): BackupDeps {
  const env = getEnv();
  const pg = pgBackupAdapter();
  const unavailable = (): never => {
    throw serviceUnavailable("database");
  };
  return {
    db,
    log,
    pg: pg ?? {
      dumpTenantDatabase: unavailable,
      verifyDump: unavailable,
      restoreDump: unavailable,
      dropStaleScratchDatabases: unavailable,
    },
    redis: redisAdapter(),
    store: createBackupStore(backupStoreConfig(env), backupEncryptionKey(env.secretKey)),
    tmpDir: backupTmpDir(env.dataDir),
  };
}
