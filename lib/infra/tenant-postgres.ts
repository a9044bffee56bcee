import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import net from "node:net";
import { promisify } from "node:util";
import pg from "pg";
import { InfraError } from "./errors";

// Tenant PostgreSQL on the shared tier (docs/security.md, "Tenant PostgreSQL"): per resource one LOGIN role
// and one database it owns, both named `t_<32 hex>` after the resource UUID, shut off from every other database of
// the cluster. Every operation is look-then-act, so a job can simply run it again after a crash at any point.
//
// The admin connection string is injected (house rule: no lib/env here). It must reach PostgreSQL directly, not
// through PgBouncer: provisioning relies on session state (SET ROLE) and `CREATE DATABASE` outside a transaction.
//
// Privileges of the admin role
// ----------------------------
// A superuser works and is what the tests use, but then the control plane holds a credential that is the whole
// cluster and, through `COPY ... PROGRAM`, a shell as the postgres OS user. The intended production role is
//
//   CREATE ROLE tussilago_admin LOGIN CREATEROLE CREATEDB PASSWORD '...';   -- PostgreSQL 16 or newer
//
// With PG16 semantics CREATEROLE only manages roles this admin created itself (it receives ADMIN OPTION on them),
// cannot touch the platform role or any superuser, and cannot hand out SUPERUSER, REPLICATION or BYPASSRLS.
// Keep `createrole_self_grant` at its default (empty): the adapter grants itself exactly what it needs, per tenant:
// - SET (INHERIT FALSE) on the tenant role: `CREATE DATABASE ... OWNER` and `ALTER SCHEMA ... OWNER` demand that
//   the caller can SET ROLE to the new owner, and owner-only statements (REVOKE/GRANT on the tenant database, the
//   public schema, DROP DATABASE, terminating the tenant's sessions) run under `SET ROLE <tenant>`. INHERIT stays
//   off so the admin does not silently accumulate every tenant's data privileges.
// - CONNECT on the tenant database, since PUBLIC loses it and step "public_schema" has to connect there.
// No pg_signal_backend (a role may terminate its own sessions) and no pg_read_all_data are needed.
//
// What such a role cannot do is revoke PUBLIC's CONNECT on `postgres`, `template1` and the platform databases:
// GRANT/REVOKE take effect only when issued by the object's owner (or a superuser); from anyone else PostgreSQL
// merely emits the WARNING "no privileges could be revoked" and changes nothing. Two ways out:
//   (a) a superuser runs, once at host setup,
//         REVOKE CONNECT ON DATABASE postgres, template1, <platform databases> FROM PUBLIC;
//         GRANT CONNECT ON DATABASE postgres TO tussilago_admin;   -- the admin's own maintenance database
//       and step "protect_databases" becomes a check that finds nothing to do;
//   (b) `ALTER DATABASE postgres|template1 OWNER TO tussilago_admin`, so the step can revoke by itself.
// We recommend (a): the owner of template1 controls what every later `CREATE DATABASE` without TEMPLATE copies
// (functions planted there reach the platform's own future databases) and may drop or rename `postgres`.
// Either way the step verifies the outcome and fails with a non-retryable "permission" error naming the database
// rather than trusting a REVOKE that PostgreSQL may have ignored.
//
// Secrets: the tenant password only ever leaves this process as a SCRAM-SHA-256 verifier, so neither the server,
// its logs, pg_stat_activity nor pg_stat_statements see the cleartext. Statements carrying the verifier are marked
// secret: their driver errors are reduced to the SQLSTATE (PostgreSQL echoes statement fragments in some messages).
// Each operation uses its own short-lived connection, so no idle admin session keeps such a statement visible as
// its last query in pg_stat_activity.

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
// Printable ASCII without space: SASLprep leaves such strings untouched, so the verifier computed here is the one
// PostgreSQL and every client library derive from the same password.
const PASSWORD = /^[\x21-\x7e]{32,1024}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;
const MAX_TIMEOUT_MS = 2_147_483_647; // PostgreSQL's integer GUCs stop at INT_MAX.
const MAX_CONNECTION_LIMIT = 10_000;

const CONNECT_TIMEOUT_MS = 10_000;
// Sent in the startup packet, so it also beats a `statement_timeout` a tenant set on its own database.
const ADMIN_STATEMENT_TIMEOUT_MS = 120_000;
const ADMIN_LOCK_TIMEOUT_MS = 30_000;
const TERMINATE_WAIT_MS = 5_000;
const APPLICATION_NAME = "tussilago-tenant-postgres";

// Databases whose PUBLIC CONNECT is always revoked, whatever the caller adds.
const ALWAYS_PROTECTED = ["postgres", "template1"] as const;

const pbkdf2Async = promisify(pbkdf2);

export type TenantNames = { role: string; database: string };

export type TenantPostgresLimits = {
  connectionLimit: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
};

export type ProvisionTenantInput = {
  resourceId: string;
  password: string;
  limits: TenantPostgresLimits;
  /** Databases tenants must not reach besides `postgres` and `template1`, e.g. the platform's own. */
  protectDatabases: readonly string[];
};

export type TenantConnectionInfo = {
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
};

export type TenantDatabaseState = { roleExists: boolean; databaseExists: boolean };

export type TenantPostgresOperation = "provision" | "rotate_password" | "deprovision" | "inspect" | "connection_info";

export type TenantPostgresErrorKind = "invalid_argument" | "not_found" | "unavailable" | "permission" | "failed";

const USER_MESSAGES: Record<TenantPostgresErrorKind, string> = {
  invalid_argument: "The database request was invalid.",
  not_found: "The database does not exist.",
  unavailable: "The database service is temporarily unavailable. Please try again shortly.",
  permission: "The database service is not configured to allow this operation.",
  failed: "The database operation failed.",
};

// `userMessage` is safe to show to a tenant: no SQL, no identifiers, no hostnames. `message` is for logs and never
// holds secrets.
export class TenantPostgresError extends InfraError<TenantPostgresErrorKind> {
  readonly operation: TenantPostgresOperation;
  /** The provisioning step (or sub-action) that failed, for logs and for resuming. */
  readonly step: string | null;
  readonly sqlState: string | null;

  constructor(
    kind: TenantPostgresErrorKind,
    operation: TenantPostgresOperation,
    message: string,
    options: { step?: string | null; sqlState?: string | null; retryable?: boolean; cause?: unknown } = {},
  ) {
    const where = options.step ? `${operation} (${options.step})` : operation;
    super(kind, `tenant postgres ${where}: ${message}`, {
      cause: options.cause,
      retryable: options.retryable ?? kind === "unavailable",
      userMessage: USER_MESSAGES[kind],
    });
    this.name = "TenantPostgresError";
    this.operation = operation;
    this.step = options.step ?? null;
    this.sqlState = options.sqlState ?? null;
  }

  override toLog(): Record<string, unknown> {
    return {
      kind: this.kind,
      operation: this.operation,
      step: this.step,
      sqlState: this.sqlState,
      retryable: this.retryable,
      message: this.message,
    };
  }
}

// SQLSTATEs after which the same operation can succeed later: the server restarting or overloaded, lock and
// serialization conflicts with a concurrent run, `CREATE DATABASE` finding its template busy.
const RETRYABLE_SQLSTATES = new Set([
  "53000", // insufficient_resources
  "53100", // disk_full
  "53200", // out_of_memory
  "53300", // too_many_connections
  "57014", // query_canceled (our statement_timeout under load)
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "57P04", // database_dropped
  "57P05", // idle_session_timeout
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "55006", // object_in_use
]);
const PERMISSION_SQLSTATES = new Set(["42501", "28000", "28P01"]);
const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
// node-postgres reports dropped connections and its own timeouts as plain Errors without a code.
const RETRYABLE_DRIVER_MESSAGE = /connection terminated|timeout expired|connection timeout|query read timeout/i;
// Concurrent GRANT/ALTER on the same catalog row: the loser gets XX000 with this text; a rerun converges.
const CONCURRENT_UPDATE_MESSAGE = /tuple concurrently (?:updated|deleted)/i;

function sqlStateOf(err: unknown): string | null {
  if (err instanceof pg.DatabaseError && typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code)) {
    return err.code;
  }
  return null;
}

function fromDriverError(
  err: unknown,
  operation: TenantPostgresOperation,
  step: string | null,
  secret: boolean,
): TenantPostgresError {
  if (err instanceof TenantPostgresError) return err;
  const sqlState = sqlStateOf(err);
  if (sqlState !== null) {
    const concurrent = sqlState === "XX000" && CONCURRENT_UPDATE_MESSAGE.test(String((err as Error).message));
    const retryable = sqlState.startsWith("08") || RETRYABLE_SQLSTATES.has(sqlState) || concurrent;
    const kind: TenantPostgresErrorKind = retryable
      ? "unavailable"
      : PERMISSION_SQLSTATES.has(sqlState)
        ? "permission"
        : "failed";
    // A statement that carried a verifier: keep nothing of PostgreSQL's text, and no cause that would carry it.
    if (secret) {
      return new TenantPostgresError(kind, operation, `statement failed (SQLSTATE ${sqlState})`, {
        step,
        sqlState,
        retryable,
      });
    }
    const message = err instanceof Error ? err.message : "statement failed";
    return new TenantPostgresError(kind, operation, `${message} (SQLSTATE ${sqlState})`, {
      step,
      sqlState,
      retryable,
      cause: err,
    });
  }
  const code =
    typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : null;
  const message = err instanceof Error ? err.message : String(err);
  const retryable = (code !== null && RETRYABLE_NETWORK_CODES.has(code)) || RETRYABLE_DRIVER_MESSAGE.test(message);
  return new TenantPostgresError(retryable ? "unavailable" : "failed", operation, secret ? "driver error" : message, {
    step,
    retryable,
    cause: secret ? undefined : err,
  });
}

function invalid(operation: TenantPostgresOperation, what: string): TenantPostgresError {
  // The offending value stays out of the message: it may be a password, or hostile.
  return new TenantPostgresError("invalid_argument", operation, `invalid ${what}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Names, passwords, verifiers

function quoteIdentifier(name: string): string {
  // Every identifier we build DDL from was validated on entry (tenantNames, protectDatabases), so this never throws
  // in practice; it keeps a future caller from skipping validation. escapeIdentifier is the second fence.
  if (!IDENTIFIER.test(name)) throw new TenantPostgresError("invalid_argument", "provision", "invalid identifier");
  return pg.escapeIdentifier(name);
}

/** Role and database of a resource: `t_` and the 32 hex digits of its UUID (v4 only). */
export function tenantNames(resourceId: string, operation: TenantPostgresOperation = "provision"): TenantNames {
  if (typeof resourceId !== "string" || !UUID_V4.test(resourceId)) throw invalid(operation, "resource id");
  const name = `t_${resourceId.toLowerCase().replaceAll("-", "")}`;
  if (!IDENTIFIER.test(name)) throw invalid(operation, "resource id");
  return { role: name, database: name };
}

/** 32 random bytes, base64url: 43 characters that need no escaping in URLs or connection strings. */
export function generateTenantPassword(): string {
  return randomBytes(32).toString("base64url");
}

function assertPassword(password: unknown, operation: TenantPostgresOperation): asserts password is string {
  if (typeof password !== "string" || !PASSWORD.test(password)) throw invalid(operation, "password");
}

async function scramKeys(
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<{ stored: Buffer; server: Buffer }> {
  const salted = await pbkdf2Async(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    stored: createHash("sha256").update(clientKey).digest(),
    server: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores in pg_authid.rolpassword (RFC 5802/7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64. Given to CREATE/ALTER ROLE ... PASSWORD it
 * is stored as is, so the cleartext never reaches the server.
 */
export async function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(SCRAM_SALT_BYTES),
): Promise<string> {
  assertPassword(password, "provision");
  const { stored, server } = await scramKeys(password, salt, SCRAM_ITERATIONS);
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString("base64")}$${stored.toString("base64")}:${server.toString("base64")}`;
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

// Whether a stored verifier belongs to this password and has the wanted parameters. Anything else (another
// iteration count, MD5, no password) counts as a mismatch and gets replaced.
async function verifierMatches(verifier: string | null, password: string): Promise<boolean> {
  const match = verifier === null ? null : VERIFIER.exec(verifier);
  if (!match || Number(match[1]) !== SCRAM_ITERATIONS) return false;
  const salt = Buffer.from(match[2] ?? "", "base64");
  const stored = Buffer.from(match[3] ?? "", "base64");
  const server = Buffer.from(match[4] ?? "", "base64");
  const expected = await scramKeys(password, salt, SCRAM_ITERATIONS);
  return (
    stored.length === expected.stored.length &&
    server.length === expected.server.length &&
    timingSafeEqual(stored, expected.stored) &&
    timingSafeEqual(server, expected.server)
  );
}

/** What a tenant app gets: discrete fields and an equivalent, properly encoded URL. */
export function tenantConnectionInfo(input: {
  host: string;
  port: number;
  resourceId: string;
  password: string;
}): TenantConnectionInfo {
  const operation = "connection_info";
  const { host, port, password } = input;
  const { role, database } = tenantNames(input.resourceId, operation);
  assertPassword(password, operation);
  const ipVersion = typeof host === "string" ? net.isIP(host) : 0;
  if (typeof host !== "string" || (ipVersion === 0 && !HOSTNAME.test(host))) throw invalid(operation, "host");
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalid(operation, "port");
  const hostPart = ipVersion === 6 ? `[${host}]` : host;
  const url =
    `postgresql://${encodeURIComponent(role)}:${encodeURIComponent(password)}@${hostPart}:${port}/` +
    encodeURIComponent(database);
  return { url, host, port, database, user: role, password };
}

// ---------------------------------------------------------------------------------------------------------------
// Admin sessions

type AdminRole = { superuser: boolean; serverVersion: number };

type Session = {
  client: pg.Client;
  operation: TenantPostgresOperation;
  step: string | null;
  admin: AdminRole;
};

function withDatabasePath(connectionString: string, database: string, operation: TenantPostgresOperation): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw invalid(operation, "admin connection string");
  }
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function connect(
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

async function close(session: Session): Promise<void> {
  await session.client.end().catch(() => undefined);
}

async function rows<R extends pg.QueryResultRow>(
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
async function exec(session: Session, text: string, options: { secret?: boolean } = {}): Promise<void> {
  try {
    await session.client.query(text);
  } catch (err) {
    throw fromDriverError(err, session.operation, session.step, options.secret === true);
  }
}

// Runs `fn` in a transaction as `role`. Owner-only statements (REVOKE on the tenant's database, schema changes,
// terminating its sessions) must come from the owner: from a non-owner PostgreSQL silently ignores a REVOKE.
async function asRole<T>(session: Session, role: string, fn: () => Promise<T>): Promise<T> {
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

async function readRole(session: Session, role: string): Promise<RoleRow | null> {
  const [row] = await rows<RoleRow>(
    session,
    "SELECT oid::int AS oid, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, " +
      "rolbypassrls, rolconnlimit, (rolvaliduntil IS NOT NULL AND rolvaliduntil <> 'infinity') AS expires " +
      "FROM pg_roles WHERE rolname = $1",
    [role],
  );
  return row ?? null;
}

async function readDatabaseOwner(session: Session, database: string): Promise<string | null> {
  const [row] = await rows<{ owner: string }>(
    session,
    "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
    [database],
  );
  return row?.owner ?? null;
}

// A non-superuser admin needs SET on the tenant role (see the header). It holds ADMIN OPTION on roles it created,
// which lets it grant that membership to itself.
async function ensureAdminCanSetRole(session: Session, role: string): Promise<void> {
  if (session.admin.superuser) return;
  const [row] = await rows<{ can: boolean }>(session, "SELECT pg_has_role($1, 'SET') AS can", [role]);
  if (row?.can) return;
  await exec(session, `GRANT ${quoteIdentifier(role)} TO CURRENT_USER WITH INHERIT FALSE, SET TRUE`);
}

async function terminateSessionsOf(session: Session, role: RoleRow, name: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------------------
// Provisioning steps

export type TenantProvisionStepName =
  | "role"
  | "role_settings"
  | "database"
  | "database_privileges"
  | "protect_databases"
  | "public_schema";

export type TenantProvisionContext = {
  readonly session: Session;
  readonly adminUrl: string;
  readonly names: TenantNames;
  readonly password: string;
  readonly limits: TenantPostgresLimits;
  readonly protectDatabases: readonly string[];
};

export type TenantProvisionStep = {
  readonly name: TenantProvisionStepName;
  readonly run: (context: TenantProvisionContext) => Promise<void>;
};

const ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS";

// (1) The role, with exactly the wanted attributes and password.
async function stepRole(context: TenantProvisionContext): Promise<void> {
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
async function stepRoleSettings(context: TenantProvisionContext): Promise<void> {
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

// (3) The database, owned by the role. From template0: nothing anyone put into template1 reaches tenants, and
// sessions on template1 cannot make CREATE DATABASE fail. It cannot run inside a transaction; `exec` does not open one.
async function stepDatabase(context: TenantProvisionContext): Promise<void> {
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
async function stepDatabasePrivileges(context: TenantProvisionContext): Promise<void> {
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
async function stepProtectDatabases(context: TenantProvisionContext): Promise<void> {
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
async function stepPublicSchema(context: TenantProvisionContext): Promise<void> {
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
    await asRole(tenantDb, names.role, async () => {
      if (before.public_access) await exec(tenantDb, "REVOKE ALL ON SCHEMA public FROM PUBLIC");
      if (!before.owned) await exec(tenantDb, `ALTER SCHEMA public OWNER TO ${quoteIdentifier(names.role)}`);
    });
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

/** In order; each is look-then-act, so any prefix followed by a full provision converges (tested). */
export const TENANT_PROVISION_STEPS: readonly TenantProvisionStep[] = [
  { name: "role", run: stepRole },
  { name: "role_settings", run: stepRoleSettings },
  { name: "database", run: stepDatabase },
  { name: "database_privileges", run: stepDatabasePrivileges },
  { name: "protect_databases", run: stepProtectDatabases },
  { name: "public_schema", run: stepPublicSchema },
];

function validateLimits(limits: TenantPostgresLimits): void {
  const within = (value: unknown, max: number) =>
    typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max;
  if (typeof limits !== "object" || limits === null) throw invalid("provision", "limits");
  if (!within(limits.connectionLimit, MAX_CONNECTION_LIMIT)) throw invalid("provision", "connection limit");
  if (!within(limits.statementTimeoutMs, MAX_TIMEOUT_MS)) throw invalid("provision", "statement timeout");
  if (!within(limits.idleInTransactionTimeoutMs, MAX_TIMEOUT_MS)) throw invalid("provision", "idle timeout");
}

/** Runs the given provisioning steps (normally all of them; tests run prefixes to simulate crashes). */
export async function runTenantProvisionSteps(
  admin: string,
  input: ProvisionTenantInput,
  steps: readonly TenantProvisionStep[],
): Promise<TenantNames> {
  const names = tenantNames(input.resourceId, "provision");
  assertPassword(input.password, "provision");
  validateLimits(input.limits);
  if (!Array.isArray(input.protectDatabases)) throw invalid("provision", "protected databases");
  for (const database of input.protectDatabases) {
    if (typeof database !== "string" || !IDENTIFIER.test(database)) throw invalid("provision", "protected database");
  }
  const session = await connect(admin, "provision", null);
  const context: TenantProvisionContext = {
    session,
    adminUrl: admin,
    names,
    password: input.password,
    limits: { ...input.limits },
    protectDatabases: [...input.protectDatabases],
  };
  try {
    for (const step of steps) {
      session.step = step.name;
      await step.run(context);
    }
  } finally {
    await close(session);
  }
  return names;
}

/** Creates or converges a tenant's role and database. Idempotent; safe to rerun after a crash at any point. */
export async function provisionTenantDatabase(admin: string, input: ProvisionTenantInput): Promise<TenantNames> {
  return runTenantProvisionSteps(admin, input, TENANT_PROVISION_STEPS);
}

/**
 * Sets a new password and ends every session of the role, so the old credentials stop working at once. A login
 * that finished authenticating with the old password in the instant between the two is the only one to survive.
 */
export async function rotateTenantPassword(
  admin: string,
  input: { resourceId: string; password: string },
): Promise<void> {
  const operation = "rotate_password";
  const names = tenantNames(input.resourceId, operation);
  assertPassword(input.password, operation);
  const verifier = pg.escapeLiteral(await scramSha256Verifier(input.password));
  const session = await connect(admin, operation, "role");
  try {
    const role = await readRole(session, names.role);
    if (!role)
      throw new TenantPostgresError("not_found", operation, "the tenant role does not exist", { step: "role" });
    await ensureAdminCanSetRole(session, names.role);
    await exec(session, `ALTER ROLE ${quoteIdentifier(names.role)} WITH PASSWORD ${verifier}`, { secret: true });
    session.step = "terminate_sessions";
    await terminateSessionsOf(session, role, names.role);
  } finally {
    await close(session);
  }
}

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
