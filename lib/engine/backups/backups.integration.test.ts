// Backups end to end on the real tenant PostgreSQL of the test run (the embedded cluster of the vitest global setup)
// with the real adapters (lib/infra/pg-backup's pg_dump/pg_restore, lib/infra/backup-store's encrypted local store):
// rows in, back up, verified; drop a table, restore over it (after a verified safety backup), rows back; restore into
// a new database, rows there; a stored object that was tampered with fails its backup with a readable reason.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { TaskContext } from "@/jobs/define";
import { provisionTenantDb } from "@/jobs/tasks/tenant_db__provision";
import { getDb } from "@/lib/db";
import { createBackup, restoreBackup } from "@/lib/domain/backups";
import type { Ctx } from "@/lib/domain/context";
import { createDatabase, revealDatabaseCredentials } from "@/lib/domain/databases";
import { resetEnvForTests } from "@/lib/env";
import { type BackupStore, createBackupStore } from "@/lib/infra/backup-store";
import { dropStaleScratchDatabases, dumpTenantDatabase, restoreDump, verifyDump } from "@/lib/infra/pg-backup";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";
import { pendingJobs } from "@/test/helpers";
import { backupDeps } from "./adapters";
import type { BackupDeps } from "./deps";
import { restoreFromBackup } from "./restore";
import { runBackup } from "./run";

const { adminUrl } = inject("testDatabase");
const log = pino({ level: "silent" });
let storeDir: string;
let tmpDir: string;
let store: BackupStore;
const clients: pg.Client[] = [];

beforeAll(async () => {
  process.env.TENANT_PG_ADMIN_URL = adminUrl;
  resetEnvForTests();
  storeDir = await mkdtemp(path.join(tmpdir(), "backup-store-"));
  tmpDir = await mkdtemp(path.join(tmpdir(), "backup-tmp-"));
  store = createBackupStore({ kind: "local", dir: storeDir }, randomBytes(32));
});

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => undefined);
  delete process.env.TENANT_PG_ADMIN_URL;
  resetEnvForTests();
  await rm(storeDir, { recursive: true, force: true });
  await rm(tmpDir, { recursive: true, force: true });
});

function deps(overrides: Partial<BackupDeps> = {}): BackupDeps {
  const unused = async (): Promise<never> => {
    throw new Error("no Redis in this test");
  };
  return {
    db: getDb(),
    log,
    pg: {
      dumpTenantDatabase: (input) => dumpTenantDatabase({ ...input, adminUrl }),
      verifyDump: (input) => verifyDump({ ...input, adminUrl }),
      restoreDump: (input) => restoreDump({ ...input, adminUrl }),
      dropStaleScratchDatabases: (keep) => dropStaleScratchDatabases(adminUrl, keep),
    },
    redis: { exportTenantRedis: unused, importTenantRedis: unused },
    store,
    tmpDir,
    ...overrides,
  };
}

function taskContext(): TaskContext {
  return { db: getDb(), log, jobId: "test", attempt: 1, maxAttempts: 8, workerId: "test" };
}

let counter = 0;
async function readyDatabase(ctx: Ctx): Promise<string> {
  counter += 1;
  const { database, operation } = await createDatabase(getDb(), ctx, { name: `bk-${process.pid}-${counter}` });
  await provisionTenantDb({ databaseId: database.id, operationId: operation.id }, taskContext());
  return database.id;
}

async function provisionPending(): Promise<void> {
  for (const job of await pendingJobs("tenant_db__provision")) {
    const payload = job.payload as { databaseId: string; operationId: string };
    await provisionTenantDb(payload, taskContext());
  }
}

async function connect(ctx: Ctx, databaseId: string): Promise<pg.Client> {
  const info = await revealDatabaseCredentials(getDb(), ctx, databaseId);
  const client = new pg.Client({ connectionString: info.url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  clients.push(client);
  await client.connect();
  return client;
}

async function teamAdmin(): Promise<Ctx> {
  const owner = await createTestUser();
  const team = await createTestTeam(owner.id);
  return await userCtx(owner.id, team.id);
}

async function restorePayload(operationId: string) {
  const job = (await pendingJobs("backup__restore")).find(
    (entry) => (entry.payload as { operationId: string }).operationId === operationId,
  );
  if (!job) throw new Error("no backup__restore job queued");
  return job.payload as { backupId: string; operationId: string; databaseId: string; safetyBackupId?: string };
}

describe("backups on the real tenant PostgreSQL", () => {
  it("round trip: verified backup, restore over a dropped table (after a safety backup), restore into new", async () => {
    const ctx = await teamAdmin();
    const databaseId = await readyDatabase(ctx);
    const tenant = await connect(ctx, databaseId);
    await tenant.query("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)");
    await tenant.query("INSERT INTO notes (body) SELECT 'note ' || n FROM generate_series(1, 25) AS n");
    await tenant.query("CREATE TABLE tags (name text)");
    await tenant.query("INSERT INTO tags VALUES ('a'), ('b')");

    const { backup } = await createBackup(getDb(), ctx, databaseId);
    const done = await runBackup(deps(), backup.id);
    expect(done).toMatchObject({ status: "verified", error: null });
    expect(done?.verification).toMatchObject({ ok: true, rows: 27 });
    expect(done?.counts).toEqual(
      expect.arrayContaining([
        { schema: "public", table: "notes", rows: 25 },
        { schema: "public", table: "tags", rows: 2 },
      ]),
    );
    expect(Number(done?.sizeBytes)).toBeGreaterThan(0);
    // A finished backup is a no-op when its job runs again.
    expect((await runBackup(deps(), backup.id))?.finishedAt).toEqual(done?.finishedAt);

    await tenant.query("DROP TABLE notes");
    await tenant.end();

    const same = await restoreBackup(getDb(), ctx, backup.id, { target: "same" });
    expect(same.safetyBackupId).not.toBeNull();
    await restoreFromBackup(deps(), await restorePayload(same.operation.id));
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: same.operation.id } })).toMatchObject({
      status: "succeeded",
      // The restore's steps are reported on its operation; the last one says what was restored.
      progress: "Restored 2 tables, 27 rows",
    });
    const safety = await getDb().backup.findUniqueOrThrow({ where: { id: same.safetyBackupId ?? "" } });
    expect(safety).toMatchObject({ trigger: "safety", status: "verified", databaseId });
    // The safety backup holds the state just before the restore: tags only.
    expect(safety.counts).toEqual([{ schema: "public", table: "tags", rows: 2 }]);
    const back = await connect(ctx, databaseId);
    expect((await back.query("SELECT count(*)::int AS n FROM notes")).rows[0]).toEqual({ n: 25 });
    expect((await back.query("SELECT count(*)::int AS n FROM tags")).rows[0]).toEqual({ n: 2 });

    const fresh = await restoreBackup(getDb(), ctx, backup.id, { target: "new" });
    expect(fresh.databaseId).not.toBe(databaseId);
    await provisionPending();
    await restoreFromBackup(deps(), await restorePayload(fresh.operation.id));
    expect(await getDb().operation.findUniqueOrThrow({ where: { id: fresh.operation.id } })).toMatchObject({
      status: "succeeded",
    });
    const copy = await connect(ctx, fresh.databaseId);
    expect((await copy.query("SELECT count(*)::int AS n FROM notes")).rows[0]).toEqual({ n: 25 });
    expect((await copy.query("SELECT body FROM notes ORDER BY id LIMIT 1")).rows[0]).toEqual({ body: "note 1" });
  });

  it("a stored object that was tampered with fails the backup with a readable reason, and no temp file stays", async () => {
    const ctx = await teamAdmin();
    const databaseId = await readyDatabase(ctx);
    const tenant = await connect(ctx, databaseId);
    await tenant.query("CREATE TABLE t (n int)");
    await tenant.query("INSERT INTO t SELECT generate_series(1, 10)");
    const { backup } = await createBackup(getDb(), ctx, databaseId);
    // The store as configured, except that the object is flipped in place right after it was written.
    const tampering: BackupStore = {
      ...store,
      async put(key, file) {
        const result = await store.put(key, file);
        const stored = path.join(storeDir, ...key.split("/"));
        const bytes = await readFile(stored);
        const middle = Math.floor(bytes.length / 2);
        bytes.writeUInt8((bytes[middle] ?? 0) ^ 0xff, middle);
        await writeFile(stored, bytes);
        return result;
      },
    };
    const done = await runBackup(deps({ store: tampering }), backup.id);
    expect(done?.status).toBe("failed");
    expect(done?.error).toMatch(/damaged|integrity/i);
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it("the task's dependencies as the worker builds them (adapters.ts: the environment's store and tenant server)", async () => {
    const ctx = await teamAdmin();
    const databaseId = await readyDatabase(ctx);
    const tenant = await connect(ctx, databaseId);
    await tenant.query("CREATE TABLE t (n int)");
    await tenant.query("INSERT INTO t SELECT generate_series(1, 3)");
    const { backup } = await createBackup(getDb(), ctx, databaseId);
    const done = await runBackup(backupDeps(getDb(), log), backup.id);
    expect(done).toMatchObject({ status: "verified", verification: { ok: true, tables: 1, rows: 3 } });
  });
});
