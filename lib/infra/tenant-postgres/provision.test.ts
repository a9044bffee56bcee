import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import {
  deprovisionTenantDatabase,
  generateTenantPassword,
  inspectTenantDatabase,
  type ProvisionTenantInput,
  provisionTenantDatabase,
  rotateTenantPassword,
  runTenantProvisionSteps,
  scramSha256Verifier,
  TENANT_PROVISION_STEPS,
  type TenantConnectionInfo,
  TenantPostgresError,
  tenantConnectionInfo,
  tenantNames,
} from "./index";

// Against the real embedded cluster of the test run: every isolation claim is checked by connecting as a tenant.

const { adminUrl } = inject("testDatabase");
const cluster = new URL(adminUrl);
const HOST = cluster.hostname;
const PORT = Number(cluster.port);
// This file's platform database (test/setup-file.ts): tenants must not reach it.
const PLATFORM_DATABASE = new URL(process.env.DATABASE_URL ?? "postgresql://invalid/").pathname.slice(1);
const LIMITS = { connectionLimit: 3, statementTimeoutMs: 200, idleInTransactionTimeoutMs: 5_000 };

const tenants: string[] = [];
const clients: pg.Client[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  for (const resourceId of tenants.splice(0)) await deprovisionTenantDatabase(adminUrl, { resourceId });
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newTenantId(): string {
  const resourceId = randomUUID();
  tenants.push(resourceId);
  return resourceId;
}

function input(resourceId: string, password: string, overrides: Partial<ProvisionTenantInput> = {}) {
  return { resourceId, password, limits: LIMITS, protectDatabases: [PLATFORM_DATABASE], ...overrides };
}

type Tenant = TenantConnectionInfo & { resourceId: string };

async function provisionTenant(password = generateTenantPassword()): Promise<Tenant> {
  const resourceId = newTenantId();
  await provisionTenantDatabase(adminUrl, input(resourceId, password));
  return { ...tenantConnectionInfo({ host: HOST, port: PORT, resourceId, password }), resourceId };
}

function urlFor(info: TenantConnectionInfo, database: string, password = info.password): string {
  const url = new URL(info.url);
  url.pathname = `/${database}`;
  url.password = encodeURIComponent(password);
  return url.toString();
}

async function open(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A terminated session emits "error"; the assertions look at the failing query instead.
  client.on("error", () => undefined);
  clients.push(client);
  await client.connect();
  return client;
}

async function dbError(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof pg.DatabaseError) return err;
    throw err;
  }
  throw new Error("expected a database error");
}

async function refusedConnection(url: string): Promise<pg.DatabaseError> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  const error = await dbError(client.connect());
  return error;
}

async function tenantError(promise: Promise<unknown>): Promise<TenantPostgresError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TenantPostgresError) return err;
    throw err;
  }
  throw new Error("expected a TenantPostgresError");
}

async function asSuperuser<T>(fn: (client: pg.Client) => Promise<T>, database = "postgres"): Promise<T> {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Everything provisioning is supposed to establish, with the tenant's name replaced so tenants compare equal.
async function snapshot(resourceId: string): Promise<unknown> {
  const { role, database } = tenantNames(resourceId);
  const normalise = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(role, "<tenant>"));
  const cluster = await asSuperuser(async (client) => {
    const result = await client.query(
      `SELECT r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
              r.rolbypassrls, r.rolconnlimit, coalesce(r.rolvaliduntil = 'infinity', true) AS no_expiry,
              (SELECT array_agg(c ORDER BY c) FROM pg_db_role_setting s, unnest(s.setconfig) c
                WHERE s.setrole = r.oid) AS settings,
              (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships,
              pg_get_userbyid(d.datdba) AS owner, d.datacl::text[] AS datacl,
              (SELECT array_agg(p.datname ORDER BY p.datname) FROM pg_database p
                WHERE p.datname = ANY($3::text[]) AND has_database_privilege('public', p.oid, 'CONNECT'))
                AS public_connectable
       FROM pg_roles r LEFT JOIN pg_database d ON d.datname = $2 WHERE r.rolname = $1`,
      [role, database, ["postgres", "template1", PLATFORM_DATABASE]],
    );
    return result.rows;
  });
  const schema = await asSuperuser(async (client) => {
    const result = await client.query(
      "SELECT pg_get_userbyid(nspowner) AS owner, nspacl::text[] AS acl FROM pg_namespace WHERE nspname = 'public'",
    );
    return result.rows;
  }, database);
  return normalise({ cluster, schema });
}

describe("provisioning against the embedded cluster", () => {
  it("validates limits and protected database names before connecting", async () => {
    const resourceId = randomUUID();
    const password = generateTenantPassword();
    const bad: Partial<ProvisionTenantInput>[] = [
      { limits: { ...LIMITS, connectionLimit: 0 } },
      { limits: { ...LIMITS, statementTimeoutMs: -1 } },
      { limits: { ...LIMITS, idleInTransactionTimeoutMs: 1.5 } },
      { protectDatabases: ['x"; DROP DATABASE postgres; --'] },
      { protectDatabases: ["Upper"] },
    ];
    for (const overrides of bad) {
      const error = await tenantError(provisionTenantDatabase(adminUrl, input(resourceId, password, overrides)));
      expect(error.kind).toBe("invalid_argument");
    }
    expect(await inspectTenantDatabase(adminUrl, resourceId)).toEqual({ roleExists: false, databaseExists: false });
  });

  it("isolates tenants from each other and from the cluster's own databases", async () => {
    const a = await provisionTenant();
    const b = await provisionTenant();

    const session = await open(a.url);
    await session.query("CREATE TABLE notes (id int PRIMARY KEY, body text)");
    await session.query("INSERT INTO notes VALUES (1, 'hello')");
    expect((await session.query("SELECT body FROM notes")).rows).toEqual([{ body: "hello" }]);
    await session.query("CREATE TEMP TABLE scratch (x int)");

    for (const database of [b.database, "postgres", "template1", PLATFORM_DATABASE]) {
      const error = await refusedConnection(urlFor(a, database));
      expect(error.code).toBe("42501");
      expect(`${error.message} ${error.detail}`).toMatch(/CONNECT privilege/);
    }
    // And the other way round.
    expect((await refusedConnection(urlFor(b, a.database))).detail).toMatch(/CONNECT privilege/);
    // B cannot log in with A's password either.
    expect((await refusedConnection(urlFor(b, b.database, a.password))).code).toBe("28P01");
  });

  it("denies cluster-level actions and server-side file and program access", async () => {
    const a = await provisionTenant();
    const session = await open(a.url);
    await session.query("CREATE TABLE t (line text)");
    const denied = [
      "CREATE ROLE intruder",
      "CREATE DATABASE intruder",
      `ALTER ROLE ${a.user} SUPERUSER`,
      `ALTER ROLE ${a.user} CREATEDB`,
      "COPY t FROM PROGRAM 'id'",
      "COPY t FROM '/etc/passwd'",
      "SELECT pg_read_file('/etc/passwd')",
      "SELECT lo_import('/etc/passwd')",
      "GRANT pg_read_server_files TO CURRENT_USER",
    ];
    for (const statement of denied) {
      const error = await dbError(session.query(statement));
      expect(error.code, statement).toBe("42501");
    }
  });

  it("enforces the connection limit", async () => {
    const a = await provisionTenant();
    for (let i = 0; i < LIMITS.connectionLimit; i++) await open(a.url);
    const error = await refusedConnection(a.url);
    expect(error.code).toBe("53300");
    expect(error.message).toMatch(/too many connections for role/);
  });

  it("applies the role's statement timeout", async () => {
    const a = await provisionTenant();
    const session = await open(a.url);
    const error = await dbError(session.query("SELECT pg_sleep(2)"));
    expect(error.code).toBe("57014");
    expect(error.message).toMatch(/statement timeout/);
    expect((await session.query("SHOW idle_in_transaction_session_timeout")).rows).toEqual([
      { idle_in_transaction_session_timeout: "5s" },
    ]);
  });

  it("stores a SCRAM verifier and never sends the cleartext password to the server", async () => {
    const password = generateTenantPassword();
    const newPassword = generateTenantPassword();
    const sent = vi.spyOn(pg.Client.prototype, "query");
    const a = await provisionTenant(password);
    await rotateTenantPassword(adminUrl, { resourceId: a.resourceId, password: newPassword });
    const statements = JSON.stringify(sent.mock.calls);
    sent.mockRestore();
    expect(statements).toContain("SCRAM-SHA-256$4096:");
    expect(statements).not.toContain(password);
    expect(statements).not.toContain(newPassword);

    const session = await open(urlFor(a, a.database, newPassword));
    await session.query("SELECT 1");
    const stored = await asSuperuser(async (client) => {
      const result = await client.query<{ scram: boolean; verifier: string }>(
        "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram, rolpassword AS verifier FROM pg_authid WHERE rolname = $1",
        [a.user],
      );
      const activity = await client.query<{ query: string }>("SELECT query FROM pg_stat_activity");
      return { ...result.rows[0], queries: activity.rows.map((row) => row.query) };
    });
    expect(stored.scram).toBe(true);
    // The stored verifier is exactly ours: recomputing it from its own salt gives the same string.
    const salt = Buffer.from(stored.verifier?.split("$")[1]?.split(":")[1] ?? "", "base64");
    expect(await scramSha256Verifier(newPassword, salt)).toBe(stored.verifier);
    expect(stored.queries.length).toBeGreaterThan(0);
    for (const query of stored.queries) {
      expect(query).not.toContain(password);
      expect(query).not.toContain(newPassword);
    }
  });

  it("converges after an interruption following any step", async () => {
    const reference = newTenantId();
    await provisionTenantDatabase(adminUrl, input(reference, generateTenantPassword()));
    const expected = await snapshot(reference);

    for (let k = 1; k <= TENANT_PROVISION_STEPS.length; k++) {
      const resourceId = newTenantId();
      const password = generateTenantPassword();
      await runTenantProvisionSteps(adminUrl, input(resourceId, password), TENANT_PROVISION_STEPS.slice(0, k));
      await provisionTenantDatabase(adminUrl, input(resourceId, password));
      expect(await snapshot(resourceId), `interrupted after ${k} step(s)`).toEqual(expected);
      const session = await open(tenantConnectionInfo({ host: HOST, port: PORT, resourceId, password }).url);
      await session.query("CREATE TABLE t (x int)");
      await session.end();
    }
  });

  it("does nothing when provisioning again, and repairs drift", async () => {
    const resourceId = newTenantId();
    const password = generateTenantPassword();
    await provisionTenantDatabase(adminUrl, input(resourceId, password));
    const before = await snapshot(resourceId);
    const verifier = async () =>
      await asSuperuser(async (client) => {
        const { role } = tenantNames(resourceId);
        return (await client.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role])).rows;
      });
    const storedBefore = await verifier();

    const sent = vi.spyOn(pg.Client.prototype, "query");
    await provisionTenantDatabase(adminUrl, input(resourceId, password));
    const changes = sent.mock.calls
      .map(([statement]) => (typeof statement === "string" ? statement : ""))
      .filter((statement) => /^\s*(CREATE|ALTER|GRANT|REVOKE|DROP)\b/i.test(statement));
    sent.mockRestore();
    expect(changes).toEqual([]);
    expect(await snapshot(resourceId)).toEqual(before);
    expect(await verifier()).toEqual(storedBefore);

    // Drift an operator or a bug could introduce: all of it is put back.
    const { role, database } = tenantNames(resourceId);
    await asSuperuser(async (client) => {
      await client.query(`ALTER ROLE ${role} CREATEDB INHERIT CONNECTION LIMIT 50 VALID UNTIL '2001-01-01'`);
      await client.query(`ALTER ROLE ${role} SET statement_timeout = 0`);
      await client.query(`GRANT pg_read_server_files TO ${role}`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO PUBLIC`);
    });
    await asSuperuser(async (client) => {
      await client.query("GRANT CREATE ON SCHEMA public TO PUBLIC");
      await client.query("ALTER SCHEMA public OWNER TO pg_database_owner");
    }, database);
    await provisionTenantDatabase(adminUrl, input(resourceId, password));
    expect(await snapshot(resourceId)).toEqual(before);
    await open(tenantConnectionInfo({ host: HOST, port: PORT, resourceId, password }).url);
  });

  it("does not run functions a tenant planted in its database while re-provisioning", async () => {
    const a = await provisionTenant();
    const session = await open(a.url);
    // A superuser connecting with this search_path would resolve aclexplode() to the tenant's function.
    await session.query("CREATE TABLE pwned (who text)");
    await session.query(`
      CREATE FUNCTION public.aclexplode(acl aclitem[], OUT grantor oid, OUT grantee oid, OUT privilege_type text,
                                        OUT is_grantable boolean) RETURNS SETOF record LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO public.pwned VALUES (current_user);
        RETURN QUERY SELECT * FROM pg_catalog.aclexplode(acl);
      END $$`);
    await session.query(`ALTER DATABASE ${a.database} SET search_path = public, pg_catalog`);
    await session.query(`ALTER DATABASE ${a.database} SET statement_timeout = 1`);
    await session.query(`ALTER DATABASE ${a.database} SET default_transaction_read_only = on`);
    await session.query("GRANT USAGE ON SCHEMA public TO PUBLIC"); // so the schema step has work to do
    await session.end();

    await provisionTenantDatabase(adminUrl, input(a.resourceId, a.password));
    const rows = await asSuperuser(async (client) => {
      await client.query("SET statement_timeout = 0; SET default_transaction_read_only = off");
      return (await client.query("SELECT who FROM public.pwned")).rows;
    }, a.database);
    expect(rows).toEqual([]);
  });

  it("rotates the password: the old one and its open sessions stop working, the new one works", async () => {
    const oldPassword = generateTenantPassword();
    const a = await provisionTenant(oldPassword);
    const { resourceId } = a;
    const oldSession = await open(a.url);
    await oldSession.query("SELECT 1");

    const newPassword = generateTenantPassword();
    await rotateTenantPassword(adminUrl, { resourceId, password: newPassword });

    await expect(oldSession.query("SELECT 1")).rejects.toThrow();
    expect((await refusedConnection(a.url)).message).toMatch(/password authentication failed/);
    const newSession = await open(urlFor(a, a.database, newPassword));
    expect((await newSession.query("SELECT current_user AS user")).rows).toEqual([{ user: a.user }]);

    const missing = await tenantError(
      rotateTenantPassword(adminUrl, { resourceId: randomUUID(), password: newPassword }),
    );
    expect(missing.kind).toBe("not_found");
    expect(missing.retryable).toBe(false);
  });

  it("deprovisions completely and idempotently, also when the role holds privileges elsewhere", async () => {
    const a = await provisionTenant();
    const b = await provisionTenant();
    const { resourceId } = a;
    const session = await open(a.url);
    await session.query("CREATE TABLE t (x int)");
    // Dependencies outside A's own database: B lets A connect (a grant on a shared object), and an object in the
    // platform database is owned by A.
    const bSession = await open(b.url);
    await bSession.query(`GRANT CONNECT ON DATABASE ${b.database} TO ${a.user}`);
    await asSuperuser(async (client) => {
      await client.query("CREATE TABLE tenant_owned_leftover (x int)");
      await client.query(`ALTER TABLE tenant_owned_leftover OWNER TO ${a.user}`);
    }, PLATFORM_DATABASE);

    await deprovisionTenantDatabase(adminUrl, { resourceId });
    expect(await inspectTenantDatabase(adminUrl, resourceId)).toEqual({ roleExists: false, databaseExists: false });
    await expect(session.query("SELECT 1")).rejects.toThrow();
    const leftover = await asSuperuser(
      async (client) => (await client.query("SELECT to_regclass('public.tenant_owned_leftover') AS t")).rows,
      PLATFORM_DATABASE,
    );
    expect(leftover).toEqual([{ t: null }]);

    await deprovisionTenantDatabase(adminUrl, { resourceId });
    await deprovisionTenantDatabase(adminUrl, { resourceId: randomUUID() });
    // B is untouched.
    expect((await bSession.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("reports unreachable servers as retryable and bad admin credentials as not retryable", async () => {
    const password = generateTenantPassword();
    const down = await tenantError(
      provisionTenantDatabase("postgresql://nobody:secret@127.0.0.1:1/postgres", input(randomUUID(), password)),
    );
    expect(down.kind).toBe("unavailable");
    expect(down.retryable).toBe(true);
    expect(down.message).not.toContain("secret");

    const wrong = new URL(adminUrl);
    wrong.password = "wrong-password";
    const denied = await tenantError(provisionTenantDatabase(wrong.toString(), input(randomUUID(), password)));
    expect(denied.kind).toBe("permission");
    expect(denied.sqlState).toBe("28P01");
    expect(denied.retryable).toBe(false);
    expect(denied.userMessage).not.toMatch(/28P01|postgres|127\.0\.0\.1/);
  });
});

// A non-superuser admin needs PostgreSQL 16's CREATEROLE semantics; the embedded cluster is 15 (the version Debian's
// pg_dump matches, docs/development.md), so these run only against a 16+ server and the 15 case is the refusal below.
const SERVER_VERSION = await asSuperuser(async (client) =>
  Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v),
);

it.runIf(SERVER_VERSION < 160_000)("refuses a CREATEROLE CREATEDB admin before PostgreSQL 16", async () => {
  const name = `tadmin_${randomBytes(8).toString("hex")}`;
  const password = generateTenantPassword();
  await asSuperuser(async (client) => {
    await client.query(`CREATE ROLE ${name} LOGIN CREATEROLE CREATEDB PASSWORD '${password}'`);
    await client.query(`GRANT CONNECT ON DATABASE postgres TO ${name}`);
  });
  cleanups.push(async () => {
    await asSuperuser(async (client) => {
      await client.query(`DROP OWNED BY ${name}`);
      await client.query(`DROP ROLE ${name}`);
    });
  });
  const url = new URL(adminUrl);
  url.username = name;
  url.password = password;
  const error = await tenantError(provisionTenantDatabase(url.toString(), input(newTenantId(), password)));
  expect(error).toMatchObject({ kind: "permission", retryable: false });
  expect(error.message).toMatch(/PostgreSQL 16/);
});

describe.skipIf(SERVER_VERSION < 160_000)(
  "with a CREATEROLE CREATEDB admin instead of a superuser (PostgreSQL 16+)",
  () => {
    async function limitedAdmin(): Promise<{ url: string; name: string }> {
      const name = `tadmin_${randomBytes(8).toString("hex")}`;
      const password = generateTenantPassword();
      const verifier = await scramSha256Verifier(password);
      await asSuperuser(async (client) => {
        await client.query(`CREATE ROLE ${name} LOGIN CREATEROLE CREATEDB PASSWORD '${verifier}'`);
        // The one-time host setup the module header documents.
        await client.query(`GRANT CONNECT ON DATABASE postgres TO ${name}`);
        await client.query(`REVOKE CONNECT ON DATABASE postgres, template1, ${PLATFORM_DATABASE} FROM PUBLIC`);
      });
      cleanups.push(async () => {
        await asSuperuser(async (client) => {
          await client.query(`DROP OWNED BY ${name}`);
          await client.query(`DROP ROLE ${name}`);
        });
      });
      const url = new URL(adminUrl);
      url.username = name;
      url.password = password;
      return { url: url.toString(), name };
    }

    it("provisions, rotates and deprovisions, and says when a protected database needs a superuser", async () => {
      const admin = await limitedAdmin();
      const extra = `tp_${randomBytes(8).toString("hex")}`;
      await asSuperuser((client) => client.query(`CREATE DATABASE ${extra}`));
      cleanups.push(async () => {
        await asSuperuser((client) => client.query(`DROP DATABASE IF EXISTS ${extra}`));
      });

      const resourceId = newTenantId();
      const password = generateTenantPassword();
      const withExtra = input(resourceId, password, { protectDatabases: [PLATFORM_DATABASE, extra] });
      const refused = await tenantError(provisionTenantDatabase(admin.url, withExtra));
      expect(refused).toMatchObject({ kind: "permission", step: "protect_databases", retryable: false });
      expect(refused.message).toContain(extra);

      await asSuperuser((client) => client.query(`REVOKE CONNECT ON DATABASE ${extra} FROM PUBLIC`));
      await provisionTenantDatabase(admin.url, withExtra);
      await provisionTenantDatabase(admin.url, withExtra);
      const info = tenantConnectionInfo({ host: HOST, port: PORT, resourceId, password });
      const session = await open(info.url);
      await session.query("CREATE TABLE t (x int)");
      for (const database of ["postgres", "template1", PLATFORM_DATABASE, extra]) {
        expect((await refusedConnection(urlFor(info, database))).detail).toMatch(/CONNECT privilege/);
      }
      const membership = await asSuperuser(async (client) => {
        const result = await client.query(
          `SELECT admin_option, inherit_option, set_option FROM pg_auth_members
         WHERE roleid = $1::regrole AND member = $2::regrole ORDER BY admin_option DESC`,
          [info.user, admin.name],
        );
        return result.rows;
      });
      // ADMIN from creating the role, SET granted by the adapter; never INHERIT.
      expect(membership).toEqual([
        { admin_option: true, inherit_option: false, set_option: false },
        { admin_option: false, inherit_option: false, set_option: true },
      ]);

      const newPassword = generateTenantPassword();
      await rotateTenantPassword(admin.url, { resourceId, password: newPassword });
      await expect(session.query("SELECT 1")).rejects.toThrow();
      await open(urlFor(info, info.database, newPassword));

      await deprovisionTenantDatabase(admin.url, { resourceId });
      await deprovisionTenantDatabase(admin.url, { resourceId });
      expect(await inspectTenantDatabase(admin.url, resourceId)).toEqual({ roleExists: false, databaseExists: false });
    });

    it("refuses to adopt a role it may not manage, without leaking the verifier statement", async () => {
      const admin = await limitedAdmin();
      const resourceId = newTenantId();
      const { role } = tenantNames(resourceId);
      await asSuperuser((client) => client.query(`CREATE ROLE ${role} SUPERUSER`));
      const password = generateTenantPassword();
      const error = await tenantError(provisionTenantDatabase(admin.url, input(resourceId, password)));
      expect(error).toMatchObject({ kind: "permission", step: "role", retryable: false, sqlState: "42501" });
      expect(error.cause).toBeUndefined();
      expect(JSON.stringify({ message: error.message, log: error.toLog() })).not.toMatch(/SCRAM|PASSWORD/i);
      expect(error.message).not.toContain(password);
    });
  },
);
