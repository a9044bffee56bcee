import pg from "pg";
import { TenantPostgresError } from "./errors";
import { quoteIdentifier, scramSha256Verifier, verifierMatches } from "./names";
import type { TenantProvisionContext } from "./provision-context";
import { ensureAdminCanSetRole, exec, readRole, rows, type Session } from "./session";

// Provisioning steps for the tenant role: attributes, password, and the per-role limits (settings).

const ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS";

// (1) The role, with exactly the wanted attributes and password.
export async function stepRole(context: TenantProvisionContext): Promise<void> {
  const { session, names, password, limits } = context;
  const role = quoteIdentifier(names.role);
  let created = false;
  let row = await readRole(session, names.role);
  if (!row) {
    const verifier = pg.escapeLiteral(await scramSha256Verifier(password));
    try {
      await exec(
        session,
        `CREATE ROLE ${role} WITH ${ROLE_ATTRIBUTES} CONNECTION LIMIT ${limits.connectionLimit} PASSWORD ${verifier}`,
        { secret: true },
      );
      created = true;
    } catch (err) {
      // 42710: a concurrent run created it first; converge it below like any existing role.
      if (!(err instanceof TenantPostgresError && err.sqlState === "42710")) throw err;
    }
    row = await readRole(session, names.role);
    if (!row) {
      throw new TenantPostgresError("unavailable", session.operation, "the role disappeared while provisioning", {
        step: session.step,
      });
    }
  }

  // Only the attributes that differ: a CREATEROLE admin may not even mention SUPERUSER, REPLICATION or BYPASSRLS
  // in ALTER ROLE, and a role that carries one of them must make this step fail rather than be used.
  const changes: string[] = [];
  if (row.rolsuper) changes.push("NOSUPERUSER");
  if (row.rolreplication) changes.push("NOREPLICATION");
  if (row.rolbypassrls) changes.push("NOBYPASSRLS");
  if (row.rolcreatedb) changes.push("NOCREATEDB");
  if (row.rolcreaterole) changes.push("NOCREATEROLE");
  if (row.rolinherit) changes.push("NOINHERIT");
  if (!row.rolcanlogin) changes.push("LOGIN");
  if (row.rolconnlimit !== limits.connectionLimit) changes.push(`CONNECTION LIMIT ${limits.connectionLimit}`);
  if (row.expires) changes.push("VALID UNTIL 'infinity'");
  let secret = false;
  if (!created && !(await storedPasswordMatches(session, names.role, password))) {
    changes.push(`PASSWORD ${pg.escapeLiteral(await scramSha256Verifier(password))}`);
    secret = true;
  }
  if (changes.length > 0) await exec(session, `ALTER ROLE ${role} WITH ${changes.join(" ")}`, { secret });

  // The tenant role belongs to no other role (pg_read_server_files and friends would undo the isolation).
  const memberships = await rows<{ role: string; grantor: string }>(
    session,
    "SELECT pg_get_userbyid(m.roleid) AS role, pg_get_userbyid(m.grantor) AS grantor " +
      "FROM pg_auth_members m WHERE m.member = $1",
    [row.oid],
  );
  for (const membership of memberships) {
    // Names read back from the catalog, not ours to validate: escapeIdentifier alone makes them inert.
    await exec(
      session,
      `REVOKE ${pg.escapeIdentifier(membership.role)} FROM ${role} GRANTED BY ${pg.escapeIdentifier(membership.grantor)}`,
    );
  }

  await ensureAdminCanSetRole(session, names.role);
}

// Without the cleartext we can only compare by recomputing: possible when pg_authid is readable (superuser admin).
// Otherwise the verifier is sent again, which changes its salt but not which password works.
async function storedPasswordMatches(session: Session, role: string, password: string): Promise<boolean> {
  const [access] = await rows<{ readable: boolean }>(
    session,
    "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable",
  );
  if (!access?.readable) return false;
  const [row] = await rows<{ verifier: string | null }>(
    session,
    "SELECT rolpassword AS verifier FROM pg_authid WHERE rolname = $1",
    [role],
  );
  return verifierMatches(row?.verifier ?? null, password);
}

const ROLE_SETTINGS = ["statement_timeout", "idle_in_transaction_session_timeout"] as const;

// (2) Role defaults for every session of the tenant (a tenant can still override them per session: docs/security.md).
export async function stepRoleSettings(context: TenantProvisionContext): Promise<void> {
  const { session, names, limits } = context;
  const [row] = await rows<{ setconfig: string[] | null }>(
    session,
    "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole " +
      "WHERE s.setdatabase = 0 AND r.rolname = $1",
    [names.role],
  );
  const current = new Map<string, string>();
  for (const entry of row?.setconfig ?? []) {
    const at = entry.indexOf("=");
    if (at > 0) current.set(entry.slice(0, at), entry.slice(at + 1));
  }
  const wanted: Record<(typeof ROLE_SETTINGS)[number], number> = {
    statement_timeout: limits.statementTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
  };
  for (const setting of ROLE_SETTINGS) {
    // Written as a bare integer (milliseconds), PostgreSQL stores it verbatim, so the comparison is exact.
    if (current.get(setting) === String(wanted[setting])) continue;
    await exec(session, `ALTER ROLE ${quoteIdentifier(names.role)} SET ${setting} = ${wanted[setting]}`);
  }
}
