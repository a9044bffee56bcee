import { TenantPostgresError } from "./errors";
import { quoteIdentifier } from "./names";
import type { TenantProvisionContext } from "./provision-context";
import { asRole, close, connect, exec, readDatabaseOwner, rows, type Session, withDatabasePath } from "./session";
import type { TenantNames } from "./types";

// Provisioning steps for the tenant database: ownership, privileges, PUBLIC shut out of it and of the protected
// databases, and the public schema handed to the tenant.

// Databases whose PUBLIC CONNECT is always revoked, whatever the caller adds.
const ALWAYS_PROTECTED = ["postgres", "template1"] as const;

// (3) The database, owned by the role. From template0: nothing anyone put into template1 reaches tenants, and
// sessions on template1 cannot make CREATE DATABASE fail. It cannot run inside a transaction; `exec` does not open one.
export async function stepDatabase(context: TenantProvisionContext): Promise<void> {
  const { session, names } = context;
  const database = quoteIdentifier(names.database);
  let owner = await readDatabaseOwner(session, names.database);
  if (owner === null) {
    try {
      await exec(session, `CREATE DATABASE ${database} WITH OWNER ${quoteIdentifier(names.role)} TEMPLATE template0`);
    } catch (err) {
      // 42P04: a concurrent run won the race; the database is there, which is all we wanted.
      if (!(err instanceof TenantPostgresError && err.sqlState === "42P04")) throw err;
    }
    owner = await readDatabaseOwner(session, names.database);
  }
  if (owner === null) {
    throw new TenantPostgresError("unavailable", session.operation, "the database disappeared while provisioning", {
      step: session.step,
    });
  }
  if (owner !== names.role) await exec(session, `ALTER DATABASE ${database} OWNER TO ${quoteIdentifier(names.role)}`);
}

type DatabasePrivileges = {
  public_connect: boolean;
  public_temp: boolean;
  role_connect: boolean;
  role_temp: boolean;
  admin_connect: boolean;
};

// The role's and the admin's privileges are read from their own ACL entries, not has_database_privilege(): while
// PUBLIC still holds CONNECT, that answers yes for everyone, and the answer turns to no once PUBLIC's is revoked.
const HOLDS = (grantee: string, privilege: string) =>
  "EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a " +
  `JOIN pg_roles g ON g.oid = a.grantee WHERE g.rolname = ${grantee} AND a.privilege_type = '${privilege}')`;

async function readDatabasePrivileges(session: Session, names: TenantNames): Promise<DatabasePrivileges> {
  const [row] = await rows<DatabasePrivileges>(
    session,
    "SELECT has_database_privilege('public', d.oid, 'CONNECT') AS public_connect, " +
      "has_database_privilege('public', d.oid, 'TEMPORARY') AS public_temp, " +
      `${HOLDS("$2", "CONNECT")} AS role_connect, ${HOLDS("$2", "TEMPORARY")} AS role_temp, ` +
      `(SELECT rolsuper FROM pg_roles WHERE rolname = session_user) OR ${HOLDS("session_user", "CONNECT")} ` +
      "AS admin_connect FROM pg_database d WHERE d.datname = $1",
    [names.database, names.role],
  );
  if (!row) {
    throw new TenantPostgresError("unavailable", session.operation, "the database disappeared while provisioning", {
      step: session.step,
    });
  }
  return row;
}

// (4) Only the tenant (and the admin, to run step 6 later) may connect to the tenant's database.
export async function stepDatabasePrivileges(context: TenantProvisionContext): Promise<void> {
  const { session, names } = context;
  const database = quoteIdentifier(names.database);
  const role = quoteIdentifier(names.role);
  const before = await readDatabasePrivileges(session, names);
  const converged = (p: DatabasePrivileges) =>
    !p.public_connect && !p.public_temp && p.role_connect && p.role_temp && p.admin_connect;
  if (converged(before)) return;
  await asRole(session, names.role, async () => {
    if (before.public_connect || before.public_temp) {
      await exec(session, `REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC`);
    }
    if (!before.role_connect || !before.role_temp) {
      await exec(session, `GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO ${role}`);
    }
    // SESSION_USER: the admin, while CURRENT_USER is the tenant role here.
    if (!before.admin_connect) await exec(session, `GRANT CONNECT ON DATABASE ${database} TO SESSION_USER`);
  });
  const after = await readDatabasePrivileges(session, names);
  if (!converged(after)) {
    // Typically PUBLIC holds a grant from someone other than the owner, which the owner's REVOKE does not touch.
    const state = Object.entries(after)
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
    throw new TenantPostgresError("permission", session.operation, `database privileges did not converge (${state})`, {
      step: session.step,
    });
  }
}

async function publicConnectable(session: Session, databases: readonly string[]): Promise<string[]> {
  const found = await rows<{ datname: string }>(
    session,
    "SELECT datname FROM pg_database WHERE datname = ANY($1::text[]) " +
      "AND has_database_privilege('public', oid, 'CONNECT') ORDER BY datname",
    [databases],
  );
  return found.map((row) => row.datname);
}

// (5) Nobody reaches postgres, template1 or the platform's databases through PUBLIC. Missing databases are
// skipped: nothing to connect to.
export async function stepProtectDatabases(context: TenantProvisionContext): Promise<void> {
  const { session } = context;
  const databases = [...new Set([...ALWAYS_PROTECTED, ...context.protectDatabases])];
  const open = await publicConnectable(session, databases);
  if (open.length === 0) return;
  await exec(session, `REVOKE CONNECT ON DATABASE ${open.map(quoteIdentifier).join(", ")} FROM PUBLIC`);
  const stillOpen = await publicConnectable(session, open);
  if (stillOpen.length > 0) {
    // PostgreSQL only warned. See the header: a superuser must revoke once, or the admin must own these databases.
    throw new TenantPostgresError(
      "permission",
      session.operation,
      `PUBLIC can still connect to ${stillOpen.map((name) => `"${name}"`).join(", ")}: the admin role does not own ` +
        `${stillOpen.length === 1 ? "it" : "them"}; a superuser must run REVOKE CONNECT ON DATABASE ... FROM PUBLIC`,
      { step: session.step },
    );
  }
}

type SchemaState = { owned: boolean; public_access: boolean };

async function readPublicSchema(session: Session, role: string): Promise<SchemaState | null> {
  const [row] = await rows<SchemaState>(
    session,
    "SELECT n.nspowner = r.oid AS owned, EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, " +
      "acldefault('n', n.nspowner))) a WHERE a.grantee = 0) AS public_access " +
      "FROM pg_namespace n JOIN pg_roles r ON r.rolname = $1 WHERE n.nspname = 'public'",
    [role],
  );
  return row ?? null;
}

// (6) Inside the tenant database: the public schema belongs to the tenant and PUBLIC has nothing on it. If the
// tenant dropped its public schema, that was its call: nothing to fix.
export async function stepPublicSchema(context: TenantProvisionContext): Promise<void> {
  const { names } = context;
  const tenantDb = await connect(
    withDatabasePath(context.adminUrl, names.database, context.session.operation),
    context.session.operation,
    context.session.step,
    context.session.admin,
  );
  try {
    const before = await readPublicSchema(tenantDb, names.role);
    if (before === null || (before.owned && !before.public_access)) return;
    const change = async () => {
      if (before.public_access) await exec(tenantDb, "REVOKE ALL ON SCHEMA public FROM PUBLIC");
      if (!before.owned) await exec(tenantDb, `ALTER SCHEMA public OWNER TO ${quoteIdentifier(names.role)}`);
    };
    // Before PostgreSQL 16 a NOINHERIT role gets none of pg_database_owner's rights, so the tenant cannot change the
    // public schema its database's owner holds. There the admin is a superuser (connect() demands it), whose
    // REVOKE and ALTER count as the owner's.
    if (tenantDb.admin.serverVersion < 160_000) await change();
    else await asRole(tenantDb, names.role, change);
    const after = await readPublicSchema(tenantDb, names.role);
    if (after !== null && (!after.owned || after.public_access)) {
      throw new TenantPostgresError("permission", tenantDb.operation, "public schema privileges did not converge", {
        step: tenantDb.step,
      });
    }
  } finally {
    await close(tenantDb);
  }
}
