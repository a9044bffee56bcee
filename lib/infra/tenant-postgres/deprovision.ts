import pg from "pg";
import { TenantPostgresError } from "./errors";
import { quoteIdentifier, tenantNames } from "./names";
import {
  asRole,
  close,
  connect,
  ensureAdminCanSetRole,
  exec,
  readDatabaseOwner,
  readRole,
  rows,
  type Session,
  terminateSessionsOf,
  withDatabasePath,
} from "./session";

// Removal of a tenant's database and role, in the order that lets nothing back in.

/** Removes the tenant's database and role. Idempotent: whatever is already gone counts as done. */
export async function deprovisionTenantDatabase(admin: string, input: { resourceId: string }): Promise<void> {
  const operation = "deprovision";
  const names = tenantNames(input.resourceId, operation);
  const session = await connect(admin, operation, "lock_out");
  try {
    const role = await readRole(session, names.role);
    if (role) {
      await ensureAdminCanSetRole(session, names.role);
      // First no new logins, then end the existing sessions: nothing can slip in between.
      if (role.rolcanlogin) await exec(session, `ALTER ROLE ${quoteIdentifier(names.role)} NOLOGIN`);
      session.step = "terminate_sessions";
      await terminateSessionsOf(session, role, names.role);
    }

    session.step = "drop_database";
    const owner = await readDatabaseOwner(session, names.database);
    if (owner !== null) await dropDatabase(session, names.database, owner);

    if (role) {
      session.step = "drop_owned";
      await dropOwnedEverywhere(session, admin, names.role, role.oid);
      session.step = "drop_role";
      try {
        await exec(session, `DROP ROLE IF EXISTS ${quoteIdentifier(names.role)}`);
      } catch (err) {
        // 2BP01: objects in a database we could not clean (say, one the admin cannot connect to).
        if (err instanceof TenantPostgresError && err.sqlState === "2BP01") {
          throw new TenantPostgresError("failed", operation, "the role still owns objects or holds privileges", {
            step: session.step,
            sqlState: err.sqlState,
            cause: err,
          });
        }
        throw err;
      }
    }
  } finally {
    await close(session);
  }
}

async function dropDatabase(session: Session, database: string, owner: string): Promise<void> {
  const statement = `DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`;
  // A superuser drops as itself: FORCE then ends every session in the database, also other admins' ones.
  if (session.admin.superuser) {
    await exec(session, statement);
    return;
  }
  // Otherwise as the owner (DROP DATABASE is owner-only and cannot run in a transaction, so no SET LOCAL).
  await exec(session, `SET ROLE ${pg.escapeIdentifier(owner)}`);
  try {
    await exec(session, statement);
  } finally {
    await session.client.query("SET ROLE NONE").catch(() => undefined);
  }
}

// DROP ROLE fails while the role owns objects or holds privileges anywhere. Its own database is gone by now; run
// DROP OWNED in the admin's database (which also revokes grants on shared objects, such as another tenant granting
// it CONNECT) and in every other database pg_shdepend says still depends on it.
async function dropOwnedEverywhere(session: Session, admin: string, role: string, oid: number): Promise<void> {
  const dropOwned = async (target: Session) => {
    const statement = `DROP OWNED BY ${quoteIdentifier(role)}`;
    if (target.admin.superuser) await exec(target, statement);
    else await asRole(target, role, () => exec(target, statement));
  };
  await dropOwned(session);
  const others = await rows<{ datname: string }>(
    session,
    "SELECT DISTINCT d.datname FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid " +
      "WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND d.datname <> current_database() " +
      "AND d.datallowconn ORDER BY d.datname",
    [oid],
  );
  for (const { datname } of others) {
    // Database names from the catalog can be anything: URL-encode for the connection string, never into SQL.
    const other = await connect(
      withDatabasePath(admin, datname, session.operation),
      session.operation,
      session.step,
      session.admin,
    );
    try {
      await dropOwned(other);
    } finally {
      await close(other);
    }
  }
}
