import { TenantPostgresError } from "./errors";
import { tenantNames, UUID_V4 } from "./names";
import { close, connect, rows } from "./session";
import type { TenantDatabaseState } from "./types";

// What exists on the server: for reconcile, the watchdog and PgBouncer's authentication file.

/** Whether the role and the database exist, for reconciliation and tests. */
export async function inspectTenantDatabase(admin: string, resourceId: string): Promise<TenantDatabaseState> {
  const names = tenantNames(resourceId, "inspect");
  const session = await connect(admin, "inspect", null);
  try {
    const [row] = await rows<TenantDatabaseState>(
      session,
      'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS "roleExists", ' +
        'EXISTS (SELECT 1 FROM pg_database WHERE datname = $2) AS "databaseExists"',
      [names.role, names.database],
    );
    return row ?? { roleExists: false, databaseExists: false };
  } finally {
    await close(session);
  }
}

const TENANT_NAME = /^t_([0-9a-f]{32})$/;

/** `t_<32 hex>` back to the resource UUID it was derived from, or null for a name this adapter never makes. */
export function resourceIdOfTenantName(name: string): string | null {
  const hex = TENANT_NAME.exec(name)?.[1];
  if (!hex) return null;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return UUID_V4.test(id) ? id : null;
}

/**
 * The resource IDs behind every tenant role or database on the server (named `t_<hex>` by tenantNames), for the
 * orphan sweep. Names that do not decode to a v4 UUID are not ours and are left out.
 */
export async function listTenantResourceIds(admin: string): Promise<string[]> {
  const session = await connect(admin, "inspect", "list");
  try {
    const found = await rows<{ name: string }>(
      session,
      "SELECT rolname::text AS name FROM pg_roles WHERE rolname ~ '^t_[0-9a-f]{32}$' " +
        "UNION SELECT datname::text FROM pg_database WHERE datname ~ '^t_[0-9a-f]{32}$' ORDER BY 1",
    );
    return found.map((row) => resourceIdOfTenantName(row.name)).filter((id): id is string => id !== null);
  } finally {
    await close(session);
  }
}

/**
 * The SCRAM verifiers of the given resources' roles, by role name (roles that do not exist are absent), for a
 * PgBouncer that logs clients in with the same verifier as the server. Secrets: never log them. Needs an admin that
 * can read pg_authid (a superuser); others get a "permission" error.
 */
export async function readTenantVerifiers(admin: string, resourceIds: readonly string[]): Promise<Map<string, string>> {
  const roles = resourceIds.map((id) => tenantNames(id, "inspect").role);
  const session = await connect(admin, "inspect", "verifiers");
  try {
    const [access] = await rows<{ readable: boolean }>(
      session,
      "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable",
    );
    if (!access?.readable) {
      throw new TenantPostgresError("permission", "inspect", "the admin role cannot read pg_authid", {
        step: "verifiers",
      });
    }
    const found = await rows<{ role: string; verifier: string | null }>(
      session,
      "SELECT rolname::text AS role, rolpassword AS verifier FROM pg_authid WHERE rolname = ANY($1::text[])",
      [roles],
    );
    return new Map(
      found
        .filter((row): row is { role: string; verifier: string } => row.verifier?.startsWith("SCRAM-SHA-256$") ?? false)
        .map((row) => [row.role, row.verifier]),
    );
  } finally {
    await close(session);
  }
}
