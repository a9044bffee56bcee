import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { withDatabase } from "@/lib/database/embedded";
import { applyPrismaMigrations, migrationStatus, readMigrations } from "@/lib/database/migrate";
import { getEnv } from "@/lib/env";

const log = pino({ level: "silent" });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(getEnv().databaseUrl ?? "", "postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** An empty database, dropped after the test. */
async function emptyDatabase(): Promise<string> {
  const name = `migrate_${randomUUID().replaceAll("-", "")}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  cleanups.push(() => admin((client) => client.query(`DROP DATABASE ${name} WITH (FORCE)`)).then(() => undefined));
  return withDatabase(getEnv().databaseUrl ?? "", name);
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-migrations-"));
  for (const [name, sql] of Object.entries(files)) {
    await fs.mkdir(path.join(dir, name));
    await fs.writeFile(path.join(dir, name, "migration.sql"), sql);
  }
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const result = await client.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  await client.end();
  return result.rows.map((row) => row.tablename);
}

describe("applyPrismaMigrations", () => {
  it("applies the repository's migrations once, in Prisma's bookkeeping table", async () => {
    const url = await emptyDatabase();
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);
    const first = await applyPrismaMigrations(url, log);
    expect(first.applied).toEqual(files.map((file) => file.name));
    expect(await tables(url)).toEqual(expect.arrayContaining(["_prisma_migrations", "Operation", "WorkerHeartbeat"]));
    const second = await applyPrismaMigrations(url, log);
    expect(second.applied).toEqual([]);
    const status = await migrationStatus(url);
    expect(status).toEqual({ applied: files.map((file) => file.name), pending: [], modified: [], unknown: [] });
  });

  it("applies only what is pending and reports edited or unknown migrations", async () => {
    const url = await emptyDatabase();
    const dir = await migrationsDir({ "001_a": "CREATE TABLE a (id int);" });
    await applyPrismaMigrations(url, log, dir);
    await fs.mkdir(path.join(dir, "002_b"));
    await fs.writeFile(path.join(dir, "002_b", "migration.sql"), "CREATE TABLE b (id int);");
    expect((await migrationStatus(url, dir)).pending).toEqual(["002_b"]);
    expect((await applyPrismaMigrations(url, log, dir)).applied).toEqual(["002_b"]);

    await fs.writeFile(path.join(dir, "001_a", "migration.sql"), "CREATE TABLE a (id bigint);");
    await fs.rm(path.join(dir, "002_b"), { recursive: true });
    const status = await migrationStatus(url, dir);
    expect(status.modified).toEqual(["001_a"]);
    expect(status.unknown).toEqual(["002_b"]);
  });

  it("leaves nothing behind when a migration fails", async () => {
    const url = await emptyDatabase();
    const dir = await migrationsDir({ "001_ok": "CREATE TABLE ok (id int);", "002_bad": "CREATE TABLE broken (;" });
    await expect(applyPrismaMigrations(url, log, dir)).rejects.toThrow(/syntax error/);
    expect(await tables(url)).toEqual([]);
  });

  it("serialises concurrent runs so each migration is applied exactly once", async () => {
    const url = await emptyDatabase();
    const dir = await migrationsDir({ "001_a": "CREATE TABLE a (id int);", "002_b": "CREATE TABLE b (id int);" });
    const results = await Promise.all([1, 2, 3].map(() => applyPrismaMigrations(url, log, dir)));
    expect(results.flatMap((result) => result.applied).sort()).toEqual(["001_a", "002_b"]);
  });
});
