// Applies prisma/migrations to the platform database, then graphile-worker's own schema.
//
// Prisma's CLI needs a native engine we cannot download (docs/development.md), so migrations are applied here with pg.
// The bookkeeping table is Prisma's own `_prisma_migrations` with the same checksums, so `prisma migrate status`
// and this runner agree. All pending migrations run in one transaction under a transaction-scoped advisory lock:
// concurrent starts (several workers, web and CLI) serialise, a failing migration leaves nothing half-applied, and
// nothing session-scoped is used, so it also works through PgBouncer in transaction mode.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runMigrations as runWorkerMigrations, Logger as WorkerLogger } from "graphile-worker";
import pg from "pg";
import type { Logger } from "pino";

// Resolved from this file's directory rather than with `new URL(relative, import.meta.url)`, which Next's bundler
// takes for an asset to bundle (and fails on a directory) when web code imports this module through the job
// registry; only the worker, the supervisor and the CLI apply migrations.
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prisma/migrations");
/** An arbitrary constant identifying the platform's migration lock (pg_advisory_xact_lock takes a bigint). */
const MIGRATION_LOCK_KEY = 7_345_120_915_001;

export type MigrationFile = { name: string; sql: string; checksum: string };

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return await Promise.all(
    names.map(async (name) => {
      const sql = await fs.readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

const CREATE_BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export type MigrationStatus = {
  applied: string[];
  pending: string[];
  /** Applied migrations whose file changed since: a sign of an edited migration, reported by `manage check`. */
  modified: string[];
  /** Applied migrations that no longer exist in the repository (a newer release's, or a deleted file). */
  unknown: string[];
};

async function appliedMigrations(client: pg.ClientBase): Promise<Map<string, string>> {
  const exists = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS exists",
  );
  if (!exists.rows[0]?.exists) return new Map();
  const rows = await client.query<{ migration_name: string; checksum: string }>(
    `SELECT migration_name, checksum FROM "_prisma_migrations"
     WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  return new Map(rows.rows.map((row) => [row.migration_name, row.checksum]));
}

function compare(files: MigrationFile[], applied: Map<string, string>): MigrationStatus {
  const known = new Set(files.map((file) => file.name));
  return {
    applied: files.filter((file) => applied.has(file.name)).map((file) => file.name),
    pending: files.filter((file) => !applied.has(file.name)).map((file) => file.name),
    modified: files
      .filter((file) => applied.has(file.name) && applied.get(file.name) !== file.checksum)
      .map((f) => f.name),
    unknown: [...applied.keys()].filter((name) => !known.has(name)),
  };
}

export async function migrationStatus(connectionString: string, dir?: string): Promise<MigrationStatus> {
  const files = await readMigrations(dir);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return compare(files, await appliedMigrations(client));
  } finally {
    await client.end();
  }
}

export async function applyPrismaMigrations(
  connectionString: string,
  log: Logger,
  dir?: string,
): Promise<{ applied: string[] }> {
  const files = await readMigrations(dir);
  const client = new pg.Client({ connectionString, application_name: "tussilago-migrate" });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(CREATE_BOOKKEEPING);
    const status = compare(files, await appliedMigrations(client));
    for (const name of status.modified) log.warn({ migration: name }, "an applied migration was modified since");
    const pending = files.filter((file) => status.pending.includes(file.name));
    for (const file of pending) {
      log.info({ migration: file.name }, "applying migration");
      await client.query(file.sql);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), now(), 1)`,
        [randomUUID(), file.checksum, file.name],
      );
    }
    await client.query("COMMIT");
    return { applied: pending.map((file) => file.name) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** graphile-worker's logger, bridged to pino. */
export function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const method = level === "error" ? "error" : level === "warning" ? "warn" : level === "info" ? "info" : "debug";
    log[method]({ graphileWorker: meta }, message);
  });
}

/** Everything the platform database needs: Prisma migrations, then graphile-worker's schema. */
export async function migrateAll(connectionString: string, log: Logger): Promise<{ applied: string[] }> {
  const result = await applyPrismaMigrations(connectionString, log);
  await runWorkerMigrations({ connectionString, logger: workerLogger(log.child({ component: "graphile-worker" })) });
  return result;
}
