// The embedded PgBouncer against the test run's PostgreSQL as the tenant server, with the real pgbouncer binary
// (Debian's package; skipped without it): a freshly provisioned tenant role logs in through it once synced (its SCRAM
// verifier, passed through to PostgreSQL), the per-user cap synced from the rows holds (a second session waits for
// the first), reloads with changed and removed users keep it serving, and a rotated password is the only one that
// works through it. Never the cleartext: PgBouncer only ever holds verifiers.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
// Through the registry: importing a task module first would enter the registry's import cycle half-way.
import { tasks } from "@/jobs/tasks";
import { freePort } from "@/lib/database/embedded";
import { getDb } from "@/lib/db";
import { createDatabase, revealDatabaseCredentials } from "@/lib/domain/databases";
import { resetEnvForTests } from "@/lib/env";
import {
  deprovisionTenantDatabase,
  generateTenantPassword,
  provisionTenantDatabase,
  rotateTenantPassword,
  tenantNames,
} from "@/lib/infra/tenant-postgres";
import {
  type EmbeddedPgBouncer,
  renderPgBouncerUsers,
  startPgBouncer,
  syncTenantPgBouncer,
} from "@/lib/services/tenant-services-pgbouncer";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

const { adminUrl } = inject("testDatabase");
const hasPgBouncer = spawnSync("pgbouncer", ["--version"], { stdio: "ignore" }).status === 0;
const log = pino({ level: "silent" });
const LIMITS = { connectionLimit: 10, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 30_000 };

describe("renderPgBouncerUsers", () => {
  it("writes one capped line per valid role, sorted, and drops anything else", () => {
    expect(
      renderPgBouncerUsers([
        { role: "t_b", maxConnections: 3 },
        { role: "t_a", maxConnections: 1 },
        { role: "bad name", maxConnections: 2 },
        { role: "t_c", maxConnections: 0 },
      ]),
    ).toBe(
      "; Written by tussilago from the tenant databases' connection limits; edits are lost.\n[users]\n" +
        "t_a = max_user_connections=1\nt_b = max_user_connections=3\n",
    );
  });
});

describe("syncTenantPgBouncer", () => {
  it("does nothing without a PgBouncer to manage, and throws on failure only when the sync is required", async () => {
    expect(await syncTenantPgBouncer(getDb(), log, { target: null, postgresAdminUrl: adminUrl })).toBe(false);
    const unreachable = {
      target: { adminUrl: "postgresql://x:y@127.0.0.1:1/pgbouncer", configDir: path.join(os.tmpdir(), randomUUID()) },
      postgresAdminUrl: adminUrl,
    };
    expect(await syncTenantPgBouncer(getDb(), log, unreachable)).toBe(false);
    await expect(syncTenantPgBouncer(getDb(), log, { ...unreachable, required: true })).rejects.toThrow(
      "The connection pooler (PgBouncer) could not be updated.",
    );
  });
});

describe.skipIf(!hasPgBouncer)("the embedded PgBouncer (real pgbouncer)", () => {
  let scratch: string;
  let bouncer: EmbeddedPgBouncer;
  const clients: pg.Client[] = [];
  const resources: string[] = [];

  beforeAll(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-pgbouncer-"));
    // Root runs PgBouncer as `postgres`, which must reach its directory.
    await fs.chmod(scratch, 0o711);
    const admin = new URL(adminUrl);
    bouncer = await startPgBouncer({
      dir: path.join(scratch, "pgbouncer"),
      port: await freePort(),
      listen: ["127.0.0.1"],
      backend: { host: "127.0.0.1", port: Number(admin.port) },
      ...(process.getuid?.() === 0 ? { runAs: "postgres" } : {}),
      log,
    });
  });

  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    await bouncer?.stop();
    for (const resourceId of resources)
      await deprovisionTenantDatabase(adminUrl, { resourceId }).catch(() => undefined);
    await fs.rm(scratch, { recursive: true, force: true });
  });

  async function tenant(connectionLimit: number) {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const id = randomUUID();
    await getDb().tenantDatabase.create({
      data: { id, teamId: team.id, name: `db-${id.slice(0, 6)}`, status: "ready", connectionLimit },
    });
    const password = generateTenantPassword();
    await provisionTenantDatabase(adminUrl, { resourceId: id, password, limits: LIMITS, protectDatabases: [] });
    resources.push(id);
    return { id, password, ...tenantNames(id) };
  }

  function through(user: string, password: string, database: string): pg.Client {
    const client = new pg.Client({
      host: "127.0.0.1",
      port: bouncer.port,
      user,
      password,
      database,
      connectionTimeoutMillis: 10_000,
    });
    client.on("error", () => undefined);
    clients.push(client);
    return client;
  }

  async function waitingClients(role: string): Promise<number> {
    const admin = new pg.Client({ connectionString: bouncer.adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ user: string; cl_waiting: string }>("SHOW POOLS");
      return rows.filter((row) => row.user === role).reduce((sum, row) => sum + Number(row.cl_waiting), 0);
    } finally {
      await admin.end();
    }
  }

  const sync = () =>
    syncTenantPgBouncer(getDb(), log, {
      target: { adminUrl: bouncer.adminUrl, configDir: bouncer.configDir },
      postgresAdminUrl: adminUrl,
    });
  const usersFile = () => fs.readFile(path.join(bouncer.configDir, "users.ini"), "utf8");

  it("lets a synced tenant role in and caps its server connections as synced", async () => {
    // The provision job syncs before the database is ready, so the role is configured before anyone logs in.
    const db = await tenant(1);
    expect(await sync()).toBe(true);
    expect(await usersFile()).toContain(`${db.role} = max_user_connections=1`);
    const first = through(db.role, db.password, db.database);
    await first.connect();
    expect((await first.query<{ user: string }>("SELECT current_user AS user")).rows[0]?.user).toBe(db.role);

    // The first session holds the role's only server connection (session pooling): the second one waits for it.
    const second = through(db.role, db.password, db.database);
    const answered = second.connect().then(() => second.query<{ one: number }>("SELECT 1 AS one"));
    let waiting = 0;
    for (let attempt = 0; attempt < 100 && waiting === 0; attempt++) {
      waiting = await waitingClients(db.role);
      if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(waiting).toBe(1);
    await first.end();
    expect((await answered).rows[0]?.one).toBe(1);

    // A raised limit, then the database gone: each sync reloads PgBouncer, which keeps serving.
    await getDb().tenantDatabase.update({ where: { id: db.id }, data: { connectionLimit: 4 } });
    expect(await sync()).toBe(true);
    expect(await usersFile()).toContain(`${db.role} = max_user_connections=4`);
    await getDb().tenantDatabase.delete({ where: { id: db.id } });
    expect(await sync()).toBe(true);
    expect(await usersFile()).not.toContain(db.role);
    expect((await second.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one).toBe(1);
  });

  it("is where a database's revealed (and injected) URL points once the provision job ran", async () => {
    const owner = await createTestUser();
    const team = await createTestTeam(owner.id);
    const ctx = await userCtx(owner.id, team.id);
    process.env.TENANT_PG_ADMIN_URL = adminUrl;
    process.env.TENANT_PGBOUNCER_URL = `postgresql://127.0.0.1:${bouncer.port}`;
    process.env.TENANT_PGBOUNCER_ADMIN_URL = bouncer.adminUrl;
    process.env.TENANT_PGBOUNCER_CONFIG_DIR = bouncer.configDir;
    resetEnvForTests();
    try {
      const { database, operation } = await createDatabase(getDb(), ctx, {
        name: "pooled",
        limits: { connectionLimit: 2 },
      });
      resources.push(database.id);
      await tasks.tenant_db__provision.run(
        { databaseId: database.id, operationId: operation.id },
        { db: getDb(), log, jobId: "test", attempt: 1, maxAttempts: 8, workerId: "test" },
      );
      const info = await revealDatabaseCredentials(getDb(), ctx, database.id);
      expect(info.port).toBe(bouncer.port);
      expect(await usersFile()).toContain(`${info.user} = max_user_connections=2`);
      const client = new pg.Client({ connectionString: info.url, connectionTimeoutMillis: 10_000 });
      client.on("error", () => undefined);
      clients.push(client);
      await client.connect();
      expect((await client.query<{ user: string }>("SELECT current_user AS user")).rows[0]?.user).toBe(info.user);
    } finally {
      for (const key of [
        "TENANT_PG_ADMIN_URL",
        "TENANT_PGBOUNCER_URL",
        "TENANT_PGBOUNCER_ADMIN_URL",
        "TENANT_PGBOUNCER_CONFIG_DIR",
      ]) {
        delete process.env[key];
      }
      resetEnvForTests();
    }
  });

  it("accepts only the rotated password", async () => {
    const db = await tenant(5);
    expect(await sync()).toBe(true);
    const before = through(db.role, db.password, db.database);
    await before.connect();
    await before.end();
    const password = generateTenantPassword();
    await rotateTenantPassword(adminUrl, { resourceId: db.id, password });
    // What tenant_db__rotate does next.
    expect(await sync()).toBe(true);
    await expect(through(db.role, db.password, db.database).connect()).rejects.toThrow();
    const after = through(db.role, password, db.database);
    await after.connect();
    expect((await after.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one).toBe(1);
  });
});
