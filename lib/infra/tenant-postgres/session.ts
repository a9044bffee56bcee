import pg from "pg";
import { fromDriverError, invalid, TenantPostgresError, type TenantPostgresOperation } from "./errors";
import { quoteIdentifier } from "./names";

// Short-lived admin sessions (one per operation) and the catalog reads and statements the steps share.

const CONNECT_TIMEOUT_MS = 10_000;
// Sent in the startup packet, so it also beats a `statement_timeout` a tenant set on its own database.
const ADMIN_STATEMENT_TIMEOUT_MS = 120_000;
const ADMIN_LOCK_TIMEOUT_MS = 30_000;
const TERMINATE_WAIT_MS = 5_000;
const APPLICATION_NAME = "tussilago-tenant-postgres";

type AdminRole = { superuser: boolean; serverVersion: number };

export type Session = {
  client: pg.Client;
  operation: TenantPostgresOperation;
  step: string | null;
  admin: AdminRole;
};

export function withDatabasePath(
  connectionString: string,
  database: string,
  operation: TenantPostgresOperation,
): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw invalid(operation, "admin connection string");
  }
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export async function connect(
  connectionString: string,
  operation: TenantPostgresOperation,
  step: string | null,
  admin?: AdminRole,
): Promise<Session> {
  if (typeof connectionString !== "string" || connectionString.length === 0) {
    throw invalid(operation, "admin connection string");
  }
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: ADMIN_STATEMENT_TIMEOUT_MS,
    lock_timeout: ADMIN_LOCK_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  });
  // Without a listener, a connection the server drops while idle would crash the process; the next query on this
  // client fails on its own and is reported there.
  const dropped: unknown[] = [];
  client.on("error", (err) => dropped.push(err));
  try {
    await client.connect();
    // Tenants own their databases and may attach settings to them (`ALTER DATABASE ... SET search_path = public,
    // pg_catalog`, `role`, `session_authorization`, read-only defaults) that apply to whoever connects. Undo all of
    // it before anything else runs, so no operator or function a tenant defined can resolve in the admin's session.
    await client.query(
      "SET SESSION AUTHORIZATION DEFAULT; SET ROLE NONE; SET search_path = pg_catalog, pg_temp; " +
        "SET default_transaction_read_only = off; SET idle_in_transaction_session_timeout = 0",
    );
    let role = admin;
    if (role === undefined) {
      const result = await client.query<{
        superuser: boolean;
        createrole: boolean;
        createdb: boolean;
        version: number;
      }>(
        "SELECT r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb, " +
          "current_setting('server_version_num')::int AS version FROM pg_roles r WHERE r.rolname = current_user",
      );
      const row = result.rows[0];
      if (!row) throw new TenantPostgresError("permission", operation, "the admin role is not visible", { step });
      if (row.version < 140_000) {
        throw new TenantPostgresError("failed", operation, "PostgreSQL 14 or newer is required", { step });
      }
      if (!row.superuser && (row.version < 160_000 || !row.createrole || !row.createdb)) {
        throw new TenantPostgresError(
          "permission",
          operation,
          "the admin role must be a superuser, or have CREATEROLE and CREATEDB on PostgreSQL 16 or newer",
          { step },
        );
      }
      role = { superuser: row.superuser, serverVersion: row.version };
    }
    return { client, operation, step, admin: role };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw fromDriverError(err, operation, step, false);
  }
}

export async function close(session: Session): Promise<void> {
  await session.client.end().catch(() => undefined);
}

export async function rows<R extends pg.QueryResultRow>(
  session: Session,
  text: string,
  values: readonly unknown[] = [],
): Promise<R[]> {
  try {
    return (await session.client.query<R>(text, [...values])).rows;
  } catch (err) {
    throw fromDriverError(err, session.operation, session.step, false);
  }
}

// DDL: no bind parameters possible, so no values; `secret` for statements carrying a verifier.
export async function exec(session: Session, text: string, options: { secret?: boolean } = {}): Promise<void> {
  try {
    await session.client.query(text);
  } catch (err) {
    throw fromDriverError(err, session.operation, session.step, options.secret === true);
  }
}

// Runs `fn` in a transaction as `role`. Owner-only statements (REVOKE on the tenant's database, schema changes,
// terminating its sessions) must come from the owner: from a non-owner PostgreSQL silently ignores a REVOKE.
export async function asRole<T>(session: Session, role: string, fn: () => Promise<T>): Promise<T> {
  await exec(session, "BEGIN");
  try {
    await exec(session, `SET LOCAL ROLE ${quoteIdentifier(role)}`);
    const result = await fn();
    await exec(session, "COMMIT");
    return result;
  } catch (err) {
    await session.client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

type RoleRow = {
  oid: number;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  expires: boolean;
};

export async function readRole(session: Session, role: string): Promise<RoleRow | null> {
  const [row] = await rows<RoleRow>(
    session,
    "SELECT oid::int AS oid, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, " +
      "rolbypassrls, rolconnlimit, (rolvaliduntil IS NOT NULL AND rolvaliduntil <> 'infinity') AS expires " +
      "FROM pg_roles WHERE rolname = $1",
    [role],
  );
  return row ?? null;
}

export async function readDatabaseOwner(session: Session, database: string): Promise<string | null> {
  const [row] = await rows<{ owner: string }>(
    session,
    "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
    [database],
  );
  return row?.owner ?? null;
}

// A non-superuser admin needs SET on the tenant role (see the header). It holds ADMIN OPTION on roles it created,
// which lets it grant that membership to itself.
export async function ensureAdminCanSetRole(session: Session, role: string): Promise<void> {
  if (session.admin.superuser) return;
  const [row] = await rows<{ can: boolean }>(session, "SELECT pg_has_role($1, 'SET') AS can", [role]);
  if (row?.can) return;
  await exec(session, `GRANT ${quoteIdentifier(role)} TO CURRENT_USER WITH INHERIT FALSE, SET TRUE`);
}

export async function terminateSessionsOf(session: Session, role: RoleRow, name: string): Promise<void> {
  await asRole(session, name, async () => {
    await rows(
      session,
      "SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity WHERE usesysid = $1 AND pid <> pg_backend_pid()",
      [role.oid, TERMINATE_WAIT_MS],
    );
  });
  const [left] = await rows<{ count: number }>(
    session,
    "SELECT count(*)::int AS count FROM pg_stat_activity WHERE usesysid = $1 AND pid <> pg_backend_pid()",
    [role.oid],
  );
  if ((left?.count ?? 0) > 0) {
    throw new TenantPostgresError("unavailable", session.operation, "sessions of the tenant role are still running", {
      step: session.step,
    });
  }
}
