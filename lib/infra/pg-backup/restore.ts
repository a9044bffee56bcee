import type pg from "pg";
import { tenantNames } from "../tenant-postgres";
import { PgBackupError } from "./errors";
import { countTables, end, fromDriverError, open, serverVersionNum, totals, withDatabase } from "./session";
import { assertToolsFit, pgTools, runTool, targetOf } from "./tools";

// Restoring a dump into a tenant database, as the tenant role (pg_restore --role, --no-owner, --no-acl): every
// restored object belongs to the tenant, whatever the dump recorded.
//
// Clearing first. The database is emptied by dropping every schema the tenant owns (and its large objects) and
// recreating `public` as provisioning leaves it (owned by the tenant, nothing for PUBLIC), rather than with
// pg_restore --clean --if-exists: --clean drops only the objects the dump names, so tables created after the backup
// would survive the restore, and dropping an object they depend on would fail it. Clearing everything gives exactly
// the backup's state, and running the restore twice gives the same result (a retried job converges).
//
// Locking ("replace"): the tenant role loses CONNECT on its database and its sessions are terminated, so the app
// cannot write between the clear and the restore; CONNECT comes back in a finally. Not ALTER DATABASE ...
// ALLOW_CONNECTIONS false: that also refuses pg_restore's own connection, superusers included.

export const DEFAULT_RESTORE_TIMEOUT_MS = 60 * 60_000;
const TERMINATE_WAIT_MS = 5_000;

export type RestoreMode = "empty" | "replace";

async function asRole(client: pg.Client, role: string, statements: readonly string[]): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL ROLE ${client.escapeIdentifier(role)}`);
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Drops every schema `role` owns and its large objects, then recreates `public` the way provisioning leaves it. */
async function clearDatabase(client: pg.Client, role: string): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    "SELECT n.nspname::text AS name FROM pg_namespace n WHERE n.nspowner = $1::regrole " +
      "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_' ORDER BY 1",
    [role],
  );
  const quotedRole = client.escapeIdentifier(role);
  await asRole(client, role, [
    ...rows.map(({ name }) => `DROP SCHEMA ${client.escapeIdentifier(name)} CASCADE`),
    `SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE lomowner = ${client.escapeLiteral(role)}::regrole`,
    `CREATE SCHEMA IF NOT EXISTS public AUTHORIZATION ${quotedRole}`,
    "REVOKE ALL ON SCHEMA public FROM PUBLIC",
  ]);
}

export async function restoreDump(i: {
  adminUrl: string;
  resourceId: string;
  dumpFile: string;
  mode: RestoreMode;
  timeoutMs?: number;
  binDir?: string;
}): Promise<{ tables: number; rows: number }> {
  let names: { role: string; database: string };
  try {
    names = tenantNames(i.resourceId, "inspect");
  } catch (error) {
    throw new PgBackupError("invalid_argument", "invalid resource id", { cause: error });
  }
  if (i.mode !== "empty" && i.mode !== "replace") throw new PgBackupError("invalid_argument", "invalid mode");
  const timeoutMs = i.timeoutMs ?? DEFAULT_RESTORE_TIMEOUT_MS;
  const tools = await pgTools(i.binDir);
  const admin = await open(i.adminUrl, 60_000);
  const database = admin.escapeIdentifier(names.database);
  let locked = false;
  try {
    try {
      assertToolsFit(tools, await serverVersionNum(admin));
      const { rows } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [names.database]);
      if (rows.length === 0) throw new PgBackupError("restore_failed", "the target database does not exist");
      if (i.mode === "replace") {
        locked = true;
        await asRole(admin, names.role, [
          `REVOKE CONNECT ON DATABASE ${database} FROM ${admin.escapeIdentifier(names.role)}`,
        ]);
        await asRole(admin, names.role, [
          `SELECT pg_terminate_backend(pid, ${TERMINATE_WAIT_MS}) FROM pg_stat_activity ` +
            `WHERE datname = ${admin.escapeLiteral(names.database)} AND usename = ${admin.escapeLiteral(names.role)} ` +
            "AND pid <> pg_backend_pid()",
        ]);
      }
      const tenantDb = await open(withDatabase(i.adminUrl, names.database), timeoutMs);
      try {
        await clearDatabase(tenantDb, names.role);
      } finally {
        await end(tenantDb);
      }
    } catch (error) {
      throw fromDriverError(error, "restore_failed");
    }
    await runTool(
      tools,
      "pg_restore",
      targetOf(i.adminUrl, names.database),
      [
        "--exit-on-error",
        "--no-owner",
        "--no-acl",
        "--single-transaction",
        `--role=${names.role}`,
        `--dbname=${names.database}`,
        "--",
        i.dumpFile,
      ],
      { timeoutMs, failure: "restore_failed" },
    );
    const restored = await open(withDatabase(i.adminUrl, names.database), timeoutMs);
    try {
      return totals(await countTables(restored));
    } catch (error) {
      throw fromDriverError(error, "restore_failed");
    } finally {
      await end(restored);
    }
  } finally {
    if (locked) {
      await asRole(admin, names.role, [
        `GRANT CONNECT ON DATABASE ${database} TO ${admin.escapeIdentifier(names.role)}`,
      ]).catch(() => undefined);
    }
    await end(admin);
  }
}

/**
 * pg_restore of the platform's own dump into `databaseUrl`'s database, as its user. `clear` first drops every
 * schema that user owns or is a member of the owner of (in PostgreSQL 15 `public` belongs to pg_database_owner), for
 * the operator's --force over a database that already has tables.
 */
export async function restorePlatformDatabase(i: {
  databaseUrl: string;
  dumpFile: string;
  clear?: boolean;
  timeoutMs?: number;
  binDir?: string;
}): Promise<{ tables: number; rows: number }> {
  const timeoutMs = i.timeoutMs ?? DEFAULT_RESTORE_TIMEOUT_MS;
  const tools = await pgTools(i.binDir);
  const client = await open(i.databaseUrl, timeoutMs);
  try {
    try {
      assertToolsFit(tools, await serverVersionNum(client));
      if (i.clear) {
        const { rows } = await client.query<{ name: string }>(
          "SELECT nspname::text AS name FROM pg_namespace WHERE pg_has_role(nspowner, 'MEMBER') " +
            "AND nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_' ORDER BY 1",
        );
        for (const { name } of rows) await client.query(`DROP SCHEMA ${client.escapeIdentifier(name)} CASCADE`);
        await client.query("CREATE SCHEMA IF NOT EXISTS public");
      }
    } catch (error) {
      throw fromDriverError(error, "restore_failed");
    }
    const target = targetOf(i.databaseUrl);
    await runTool(
      tools,
      "pg_restore",
      target,
      [
        "--exit-on-error",
        "--no-owner",
        "--no-acl",
        "--single-transaction",
        `--dbname=${target.database}`,
        "--",
        i.dumpFile,
      ],
      { timeoutMs, failure: "restore_failed" },
    );
    return totals(await countTables(client));
  } finally {
    await end(client);
  }
}
