import pg from "pg";
import { TenantPostgresError } from "./tenant-postgres";

// The platform's own enforcement of tenant time limits. The role defaults set at provisioning (statement_timeout,
// idle_in_transaction_session_timeout) are only defaults: any tenant session can `SET statement_timeout = 0` and
// hold a backend (and its locks, snapshot and memory) forever. This sweep looks at pg_stat_activity from the admin
// side, which no tenant setting reaches, and
// - cancels (pg_cancel_backend) a tenant query running longer than its limit: the session survives, the statement
//   fails with 57014 as if statement_timeout had fired;
// - terminates (pg_terminate_backend) a tenant session idle in a transaction past its limit: cancelling would do
//   nothing there (no query runs), and the open transaction holds back vacuum and keeps its locks.
//
// Privileges: a superuser admin works as is. A non-superuser admin (the CREATEROLE CREATEDB role described in
// tenant-postgres/index.ts) needs `GRANT pg_signal_backend, pg_read_all_stats TO <admin>`: without pg_read_all_stats it
// sees no state or start time of other roles' sessions, and without pg_signal_backend it may not signal them (its
// SET membership in tenant roles is granted WITH INHERIT FALSE, which does not count). The sweep checks both first
// and fails with a "permission" error rather than silently enforcing nothing.
//
// PgBouncer: 1.18 has one global query_timeout and no per-user one, so it cannot carry per-team limits; a global
// query_timeout at or above the largest team limit would still be a useful outer fence, but the sweep does not
// depend on it (and works the same whether sessions come through PgBouncer or not: it sees server backends).

export type TenantSessionLimits = {
  /** Longest a single statement may run, in ms. */
  statementTimeoutMs: number;
  /** Longest a session may sit idle inside an open transaction, in ms. */
  idleInTransactionMs: number;
};

export type TenantSessionAction = {
  role: string;
  pid: number;
  action: "cancel" | "terminate";
  /** How long the statement had run, or the transaction had been idle, when it was signalled. */
  elapsedMs: number;
  /** False when the backend was gone by the time it was signalled. */
  signalled: boolean;
};

const TENANT_ROLE = /^t_[0-9a-f]{32}$/;
const MAX_LIMIT_MS = 2_147_483_647;
const CONNECT_TIMEOUT_MS = 5_000;
// The sweep itself must never become the long query: it reads one catalog view.
const SWEEP_STATEMENT_TIMEOUT_MS = 10_000;
const APPLICATION_NAME = "tussilago-tenant-watchdog";

function invalid(what: string): TenantPostgresError {
  return new TenantPostgresError("invalid_argument", "inspect", `invalid ${what}`, { step: "watchdog" });
}

function checkLimits(limits: ReadonlyMap<string, TenantSessionLimits>): void {
  for (const [role, limit] of limits) {
    if (!TENANT_ROLE.test(role)) throw invalid("tenant role");
    for (const value of [limit.statementTimeoutMs, limit.idleInTransactionMs]) {
      if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT_MS) throw invalid("limit");
    }
  }
}

function driverError(err: unknown): TenantPostgresError {
  if (err instanceof TenantPostgresError) return err;
  const sqlState = err instanceof pg.DatabaseError && typeof err.code === "string" ? err.code : null;
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const permission = sqlState === "42501" || sqlState === "28000" || sqlState === "28P01";
  // Everything but a permission problem is worth another tick: the server restarting, the network, overload.
  return new TenantPostgresError(
    permission ? "permission" : "unavailable",
    "inspect",
    `watchdog sweep failed (${sqlState ?? (code || "driver error")})`,
    { step: "watchdog", sqlState, retryable: !permission, cause: err },
  );
}

// One statement finds and signals, so a backend that finished its long query between a look and a signal is not
// hit while running its next one (the window shrinks to PostgreSQL evaluating one row). Tenant sessions only:
// `backend_type = 'client backend'` and a role from the given map, never the admin's own or other sessions.
const SWEEP_SQL = `
WITH limits AS (
  SELECT l.role, l.statement_ms, l.idle_ms
  FROM unnest($1::text[], $2::int[], $3::int[]) AS l(role, statement_ms, idle_ms)
), hits AS (
  SELECT a.pid, a.usename::text AS role,
         CASE WHEN a.state = 'active' THEN 'cancel' ELSE 'terminate' END AS action,
         floor(extract(epoch FROM clock_timestamp() -
           CASE WHEN a.state = 'active' THEN a.query_start ELSE a.state_change END) * 1000)::bigint AS elapsed_ms
  FROM pg_stat_activity a JOIN limits l ON l.role = a.usename::text
  WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() AND (
    (a.state = 'active' AND a.query_start < clock_timestamp() - l.statement_ms * interval '1 millisecond')
    OR (a.state IN ('idle in transaction', 'idle in transaction (aborted)')
        AND a.state_change < clock_timestamp() - l.idle_ms * interval '1 millisecond'))
)
SELECT pid, role, action, elapsed_ms::text AS elapsed_ms,
       CASE WHEN action = 'cancel' THEN pg_cancel_backend(pid) ELSE pg_terminate_backend(pid) END AS signalled
FROM hits ORDER BY role, pid`;

/**
 * Cancels tenant statements and terminates idle-in-transaction tenant sessions that exceed their limits, whatever
 * the sessions SET. `limits` maps tenant role names (`t_<hex>`) to their limits; roles not in it are left alone.
 * Returns what it signalled. Never logs or returns query text (it is the tenant's, and may hold secrets).
 */
export async function enforceTenantSessionLimits(
  adminUrl: string,
  limits: ReadonlyMap<string, TenantSessionLimits>,
): Promise<TenantSessionAction[]> {
  checkLimits(limits);
  if (limits.size === 0) return [];
  const client = new pg.Client({
    connectionString: adminUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: SWEEP_STATEMENT_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  });
  // A connection dropped while idle would otherwise crash the worker; the next query reports it.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const access = await client.query<{ allowed: boolean }>(
      "SELECT r.rolsuper OR (pg_has_role(current_user, 'pg_signal_backend', 'USAGE') " +
        "AND pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')) AS allowed " +
        "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
    );
    if (!access.rows[0]?.allowed) {
      throw new TenantPostgresError(
        "permission",
        "inspect",
        "the admin role needs pg_signal_backend and pg_read_all_stats (or superuser) to enforce time limits",
        { step: "watchdog" },
      );
    }
    const roles = [...limits.keys()];
    const result = await client.query<{
      pid: number;
      role: string;
      action: "cancel" | "terminate";
      elapsed_ms: string;
      signalled: boolean;
    }>(SWEEP_SQL, [
      roles,
      roles.map((role) => limits.get(role)?.statementTimeoutMs),
      roles.map((role) => limits.get(role)?.idleInTransactionMs),
    ]);
    return result.rows.map((row) => ({
      role: row.role,
      pid: row.pid,
      action: row.action,
      elapsedMs: Number(row.elapsed_ms),
      signalled: row.signalled,
    }));
  } catch (err) {
    throw driverError(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
