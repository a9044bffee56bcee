import pg from "pg";
import { PgBackupError, type PgBackupErrorKind } from "./errors";

// Short-lived admin connections and the catalog reads the dump, the verification and the restore share.

const CONNECT_TIMEOUT_MS = 10_000;
const APPLICATION_NAME = "tussilago-pg-backup";

export type TableCount = { schema: string; table: string; rows: number };

export function withDatabase(url: string, database: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PgBackupError("invalid_argument", "invalid connection string");
  }
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** A driver error as a PgBackupError: lost connections and a restarting server can succeed later. */
export function fromDriverError(error: unknown, fallback: PgBackupErrorKind): PgBackupError {
  if (error instanceof PgBackupError) return error;
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const message = error instanceof Error ? error.message : String(error);
  if (code.startsWith("28")) return new PgBackupError("connection", message, { retryable: false, cause: error });
  if (
    code.startsWith("08") ||
    code.startsWith("57P") ||
    code === "53300" ||
    /^E(?:CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|HOSTUNREACH)$/.test(code) ||
    /connection terminated|timeout expired/i.test(message)
  ) {
    return new PgBackupError("connection", message, { retryable: true, cause: error });
  }
  return new PgBackupError(fallback, code ? `${message} (SQLSTATE ${code})` : message, { cause: error });
}

/**
 * An admin session on `url`. Tenants own their databases and may attach settings to them (search_path, role,
 * timeouts, read-only defaults) that apply to whoever connects: undo all of it first, so nothing a tenant defined
 * resolves in the admin's session and no tenant timeout cuts a long count short.
 */
export async function open(url: string, statementTimeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  });
  // A connection the server drops while idle would otherwise crash the process; the next query fails instead.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(
      "SET SESSION AUTHORIZATION DEFAULT; SET ROLE NONE; SET search_path = pg_catalog, pg_temp; " +
        "SET default_transaction_read_only = off; SET idle_in_transaction_session_timeout = 0; " +
        `SET statement_timeout = ${Math.max(0, Math.floor(statementTimeoutMs))}; SET lock_timeout = 30000`,
    );
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw fromDriverError(error, "connection");
  }
}

export async function end(client: pg.Client | null): Promise<void> {
  await client?.end().catch(() => undefined);
}

export async function serverVersionNum(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(rows[0]?.v);
}

/**
 * Every table whose rows a dump of this database carries: ordinary tables (partitions included, their parents hold
 * no rows) of every non-system schema, not temporary, not part of an extension (pg_dump leaves those out).
 */
const TABLES =
  "SELECT n.nspname::text AS schema, c.relname::text AS table FROM pg_class c " +
  "JOIN pg_namespace n ON n.oid = c.relnamespace " +
  "WHERE c.relkind = 'r' AND c.relpersistence <> 't' " +
  "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)' " +
  "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid " +
  "AND d.deptype = 'e') ORDER BY 1, 2";

const COUNT_BATCH = 200;

/** Row counts of every table, in the client's current snapshot: one statement per 200 tables, not one per table. */
export async function countTables(client: pg.Client): Promise<TableCount[]> {
  const { rows: tables } = await client.query<{ schema: string; table: string }>(TABLES);
  const counts: TableCount[] = [];
  for (let start = 0; start < tables.length; start += COUNT_BATCH) {
    const batch = tables.slice(start, start + COUNT_BATCH);
    const text = batch
      .map(({ schema, table }, index) => {
        const name = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
        return `SELECT ${index} AS i, count(*) AS n FROM ${name}`;
      })
      .join(" UNION ALL ");
    const { rows } = await client.query<{ i: number; n: string }>(text);
    const byIndex = new Map(rows.map((row) => [Number(row.i), Number(row.n)]));
    batch.forEach(({ schema, table }, index) => {
      counts.push({ schema, table, rows: byIndex.get(index) ?? 0 });
    });
  }
  return counts;
}

export function totals(counts: readonly TableCount[]): { tables: number; rows: number } {
  return { tables: counts.length, rows: counts.reduce((sum, count) => sum + count.rows, 0) };
}
