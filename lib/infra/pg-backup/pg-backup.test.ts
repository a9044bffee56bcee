import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { rejectionOf } from "@/test/errors";
import {
  deprovisionTenantDatabase,
  generateTenantPassword,
  provisionTenantDatabase,
  type TenantConnectionInfo,
  tenantConnectionInfo,
} from "../tenant-postgres";
import {
  dropStaleScratchDatabases,
  dumpTenantDatabase,
  locatePgBinDir,
  PgBackupError,
  restoreDump,
  scratchDatabaseName,
  type TableCount,
  verifyDump,
} from "./index";

// Real round trips on the embedded tenant cluster of the test run, with the host's pg_dump and pg_restore.

const { adminUrl } = inject("testDatabase");
const cluster = new URL(adminUrl);
const PLATFORM_DATABASE = new URL(process.env.DATABASE_URL ?? "postgresql://invalid/").pathname.slice(1);
const LIMITS = { connectionLimit: 5, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 30_000 };
const APPLICATIONS = ["tussilago-pg-backup", "tussilago-pg-dump", "tussilago-pg-restore"];

let workDir: string;
const tenants: string[] = [];
const clients: pg.Client[] = [];

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), "pg-backup-test-"));
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.end().catch(() => undefined);
});

afterAll(async () => {
  for (const resourceId of tenants.splice(0)) await deprovisionTenantDatabase(adminUrl, { resourceId });
  await fs.rm(workDir, { recursive: true, force: true });
});

async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function provisionTenant(): Promise<TenantConnectionInfo & { resourceId: string }> {
  const resourceId = randomUUID();
  tenants.push(resourceId);
  const password = generateTenantPassword();
  await provisionTenantDatabase(adminUrl, {
    resourceId,
    password,
    limits: LIMITS,
    protectDatabases: [PLATFORM_DATABASE],
  });
  const info = tenantConnectionInfo({ host: cluster.hostname, port: Number(cluster.port), resourceId, password });
  return { ...info, resourceId };
}

async function connectAs(info: TenantConnectionInfo): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: info.url });
  client.on("error", () => undefined);
  clients.push(client);
  await client.connect();
  return client;
}

/** A tenant with rows in several tables and schemas (sizes chosen per test run, not fixed). */
async function seed(info: TenantConnectionInfo): Promise<Record<string, number>> {
  const sizes = { "public.orders": 200 + Math.floor(Math.random() * 300), "app.events": 50, "public.empty": 0 };
  const client = await connectAs(info);
  await client.query("CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL)");
  await client.query("INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, $1) g", [
    sizes["public.orders"],
  ]);
  await client.query("CREATE TABLE empty (x int)");
  await client.query("CREATE SCHEMA app");
  await client.query("CREATE TABLE app.events (id bigint PRIMARY KEY, order_id int REFERENCES orders (id))");
  await client.query("INSERT INTO app.events SELECT g, g FROM generate_series(1, $1) g", [sizes["app.events"]]);
  await client.query("CREATE VIEW app.recent AS SELECT * FROM orders ORDER BY id DESC LIMIT 5");
  return sizes;
}

function asMap(counts: readonly TableCount[]): Record<string, number> {
  return Object.fromEntries(counts.map((count) => [`${count.schema}.${count.table}`, count.rows]));
}

async function scratchDatabases(): Promise<string[]> {
  return await asAdmin(async (client) => {
    const { rows } = await client.query<{ name: string }>(
      "SELECT datname::text AS name FROM pg_database WHERE datname LIKE 'tv\\_%' ORDER BY 1",
    );
    return rows.map((row) => row.name);
  });
}

async function backupSessions(): Promise<number> {
  return await asAdmin(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1::text[])",
      [APPLICATIONS],
    );
    return rows[0]?.n ?? -1;
  });
}

describe("dump and verify", () => {
  it("dumps with the counts of the dump's snapshot, verifies them in a scratch database and drops it", async () => {
    const tenant = await provisionTenant();
    const sizes = await seed(tenant);
    const outFile = path.join(workDir, `${randomUUID()}.dump`);

    const dump = await dumpTenantDatabase({ adminUrl, resourceId: tenant.resourceId, outFile });
    expect(asMap(dump.counts)).toEqual(sizes);
    expect(dump.bytes).toBe((await fs.stat(outFile)).size);
    expect(dump.bytes).toBeGreaterThan(0);
    expect((await fs.stat(outFile)).mode & 0o777).toBe(0o600);

    const scratchId = randomUUID();
    const verified = await verifyDump({
      adminUrl,
      resourceId: tenant.resourceId,
      dumpFile: outFile,
      expected: dump.counts,
      scratchId,
    });
    const total = Object.values(sizes).reduce((sum, rows) => sum + rows, 0);
    expect(verified).toEqual({ ok: true, tables: Object.keys(sizes).length, rows: total });
    expect(await scratchDatabases()).not.toContain(scratchDatabaseName(scratchId));
    expect(await backupSessions()).toBe(0);
  });

  it("counts in the dump's snapshot: rows written while pg_dump starts are in neither the counts nor the dump", async () => {
    const tenant = await provisionTenant();
    const sizes = await seed(tenant);
    // A pg_dump that lets the app write 7 rows (through psql, as the admin) just before the real one runs.
    const real = await locatePgBinDir();
    const dir = await fs.mkdtemp(path.join(workDir, "bin-"));
    const insert = "INSERT INTO public.orders (note) SELECT 'late' FROM generate_series(1, 7)";
    await fs.writeFile(
      path.join(dir, "pg_dump"),
      `#!/bin/sh\n[ "$1" = "--version" ] || "${real}/psql" -X -q -h ${cluster.hostname} -p ${cluster.port} ` +
        `-U ${decodeURIComponent(cluster.username)} -d ${tenant.database} -c "${insert}" || exit 9\n` +
        `exec "${real}/pg_dump" "$@"\n`,
      { mode: 0o755 },
    );
    await fs.symlink(path.join(real, "pg_restore"), path.join(dir, "pg_restore"));
    const outFile = path.join(workDir, `${randomUUID()}.dump`);
    const dump = await dumpTenantDatabase({ adminUrl, resourceId: tenant.resourceId, outFile, binDir: dir });
    expect(asMap(dump.counts)).toEqual(sizes);
    const live = await connectAs(tenant);
    const { rows } = await live.query<{ n: number }>("SELECT count(*)::int AS n FROM orders");
    expect(rows[0]?.n).toBe((sizes["public.orders"] ?? 0) + 7);
    const verified = await verifyDump({
      adminUrl,
      resourceId: tenant.resourceId,
      dumpFile: outFile,
      expected: dump.counts,
      scratchId: randomUUID(),
    });
    expect(verified).toMatchObject({ ok: true });
  });

  it("fails verification, with a reason, for a truncated or garbled dump and for counts that differ", async () => {
    const tenant = await provisionTenant();
    await seed(tenant);
    const outFile = path.join(workDir, `${randomUUID()}.dump`);
    const dump = await dumpTenantDatabase({ adminUrl, resourceId: tenant.resourceId, outFile });
    const base = { adminUrl, resourceId: tenant.resourceId, expected: dump.counts };

    const truncated = path.join(workDir, `${randomUUID()}.dump`);
    await fs.writeFile(truncated, (await fs.readFile(outFile)).subarray(0, Math.floor(dump.bytes / 2)));
    const cut = await verifyDump({ ...base, dumpFile: truncated, scratchId: randomUUID() });
    expect(cut.ok).toBe(false);
    if (!cut.ok) expect(cut.reason.length).toBeGreaterThan(0);

    const garbled = path.join(workDir, `${randomUUID()}.dump`);
    await fs.writeFile(garbled, "this is not a pg_dump archive\n");
    const garbage = await verifyDump({ ...base, dumpFile: garbled, scratchId: randomUUID() });
    expect(garbage).toMatchObject({ ok: false, reason: expect.stringMatching(/did not restore/) });

    const wrong = dump.counts.map((count) => (count.table === "orders" ? { ...count, rows: count.rows + 1 } : count));
    const mismatch = await verifyDump({ ...base, dumpFile: outFile, expected: wrong, scratchId: randomUUID() });
    expect(mismatch).toMatchObject({ ok: false, reason: expect.stringContaining("public.orders") });
    const missing = [...dump.counts, { schema: "app", table: "gone", rows: 1 }];
    const absent = await verifyDump({ ...base, dumpFile: outFile, expected: missing, scratchId: randomUUID() });
    expect(absent).toMatchObject({ ok: false, reason: expect.stringContaining("app.gone is missing") });

    expect(await scratchDatabases()).toEqual([]);
    expect(await backupSessions()).toBe(0);
  });

  it("drops the scratch databases a crash left behind, except the ones still in use", async () => {
    const [kept, stale] = [randomUUID(), randomUUID()];
    await asAdmin(async (client) => {
      for (const id of [kept, stale]) await client.query(`CREATE DATABASE ${scratchDatabaseName(id)}`);
    });
    const dropped = await dropStaleScratchDatabases(adminUrl, [kept]);
    expect(dropped).toEqual([scratchDatabaseName(stale)]);
    expect(await scratchDatabases()).toEqual([scratchDatabaseName(kept)]);
    await dropStaleScratchDatabases(adminUrl, []);
    expect(await scratchDatabases()).toEqual([]);
  });
});

describe("restore", () => {
  it("replace: locks the tenant out, brings dropped rows back, removes what came later; twice gives the same", async () => {
    const tenant = await provisionTenant();
    const sizes = await seed(tenant);
    const outFile = path.join(workDir, `${randomUUID()}.dump`);
    await dumpTenantDatabase({ adminUrl, resourceId: tenant.resourceId, outFile });

    const app = await connectAs(tenant);
    await app.query("DROP TABLE app.events");
    await app.query("CREATE TABLE later (x int)");

    const first = await restoreDump({ adminUrl, resourceId: tenant.resourceId, dumpFile: outFile, mode: "replace" });
    const total = Object.values(sizes).reduce((sum, rows) => sum + rows, 0);
    expect(first).toEqual({ tables: Object.keys(sizes).length, rows: total });
    // The app's open session was terminated by the lock.
    await expect(app.query("SELECT 1")).rejects.toThrow();

    const again = await restoreDump({ adminUrl, resourceId: tenant.resourceId, dumpFile: outFile, mode: "replace" });
    expect(again).toEqual(first);

    // CONNECT is back; the tenant owns what was restored and reads its rows.
    const after = await connectAs(tenant);
    const { rows } = await after.query<{ n: number }>("SELECT count(*)::int AS n FROM app.events");
    expect(rows[0]?.n).toBe(sizes["app.events"]);
    const later = await after.query("SELECT to_regclass('public.later') AS t");
    expect(later.rows[0]?.t).toBeNull();
    const owners = await after.query<{ owner: string }>(
      "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE n.nspname IN ('public', 'app')",
    );
    expect(owners.rows).toEqual([{ owner: tenant.user }]);
    await after.query("INSERT INTO orders (note) VALUES ('after the restore')");
    expect(await backupSessions()).toBe(0);
  });

  it("empty: restores into another tenant's fresh database, owned by that tenant", async () => {
    const source = await provisionTenant();
    const sizes = await seed(source);
    const outFile = path.join(workDir, `${randomUUID()}.dump`);
    await dumpTenantDatabase({ adminUrl, resourceId: source.resourceId, outFile });

    const target = await provisionTenant();
    const restored = await restoreDump({ adminUrl, resourceId: target.resourceId, dumpFile: outFile, mode: "empty" });
    expect(restored.rows).toBe(Object.values(sizes).reduce((sum, rows) => sum + rows, 0));
    const client = await connectAs(target);
    const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM orders");
    expect(rows[0]?.n).toBe(sizes["public.orders"]);
    const owner = await client.query<{ owner: string }>(
      "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'app.events'::regclass",
    );
    expect(owner.rows[0]?.owner).toBe(target.user);
    // Nothing of the source's role came along.
    expect(JSON.stringify(owner.rows)).not.toContain(source.user);
  });
});

describe("tools", () => {
  async function fakeBinDir(version: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(workDir, "bin-"));
    for (const tool of ["pg_dump", "pg_restore"]) {
      const file = path.join(dir, tool);
      await fs.writeFile(file, `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}"\n`, { mode: 0o755 });
    }
    return dir;
  }

  it("refuses tools older than the server (kind version) and says when they are missing", async () => {
    const tenant = await provisionTenant();
    const outFile = path.join(workDir, `${randomUUID()}.dump`);
    const previous = process.env.TUSSILAGO_PG_BIN_DIR;
    process.env.TUSSILAGO_PG_BIN_DIR = await fakeBinDir("9.6.24");
    try {
      const old = await rejectionOf(dumpTenantDatabase({ adminUrl, resourceId: tenant.resourceId, outFile }));
      expect(old).toBeInstanceOf(PgBackupError);
      expect(old).toMatchObject({ kind: "version", retryable: false });
      expect((old as Error).message).toMatch(/older than the PostgreSQL \d+ server/);
      await expect(fs.stat(outFile)).rejects.toThrow();

      process.env.TUSSILAGO_PG_BIN_DIR = await fs.mkdtemp(path.join(workDir, "empty-"));
      const none = await rejectionOf(
        restoreDump({ adminUrl, resourceId: tenant.resourceId, dumpFile: outFile, mode: "replace" }),
      );
      expect(none).toMatchObject({ kind: "tool_missing" });
    } finally {
      if (previous === undefined) delete process.env.TUSSILAGO_PG_BIN_DIR;
      else process.env.TUSSILAGO_PG_BIN_DIR = previous;
    }
    expect(await backupSessions()).toBe(0);
  });
});
