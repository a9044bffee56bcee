// Configuration of the Prisma CLI only (the app builds its client in lib/db.ts).
//
// Prisma's native schema engine cannot be downloaded on our machines, so the CLI runs its WebAssembly engine
// through a pg driver adapter (`engine: "js"`). The CLI is only used offline: `prisma generate`, and
// `prisma migrate diff` for the drift check and for writing new migrations (scripts/prisma-diff.ts starts a
// throwaway PostgreSQL and passes its address in PRISMA_CLI_DATABASE_URL). Migrations are applied by
// lib/database/migrate.ts, not by the CLI. See docs/development.md for the three adapter bugs handled below.
import { randomUUID } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { defineConfig } from "prisma/config";

// Bug 1 (prisma/orm#27403): the adapter rejects columns of type `name` (oid 19) and `"char"` (oid 18), and the
// schema engine reads catalog tables full of them. Report `name` as text and `"char"` as a character column.
const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;
const CHARACTER_COLUMN = 6; // ColumnTypeEnum.Character in @prisma/driver-adapter-utils

type IoResult = { fields: { dataTypeID: number }[]; rows: unknown[][] };
type PatchableQueryable = {
  queryRaw(query: unknown): Promise<{ columnTypes: number[] }>;
  performIO?: (query: unknown) => Promise<IoResult>;
};

function acceptCatalogTypes<T extends object>(queryable: T): T {
  const target = queryable as unknown as PatchableQueryable & { performIO(query: unknown): Promise<IoResult> };
  const original = target.queryRaw.bind(target);
  target.queryRaw = async (query) => {
    const io = await target.performIO(query);
    const characterColumns: number[] = [];
    io.fields.forEach((field, index) => {
      if (field.dataTypeID === CHAR_OID) characterColumns.push(index);
      if (field.dataTypeID === CHAR_OID || field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
    });
    // The original queryRaw calls performIO synchronously before its first await, so this override is seen only
    // by this call even when queries run concurrently.
    target.performIO = async () => io;
    const pending = original(query);
    Reflect.deleteProperty(target, "performIO");
    const result = await pending;
    for (const index of characterColumns) result.columnTypes[index] = CHARACTER_COLUMN;
    return result;
  };
  return queryable;
}

function poolConfig(url: string): pg.PoolConfig {
  // Bug 2: with `connectionString`, pg lets the URL override `database`, so the shadow database would silently
  // become the main one. Build the configuration from discrete fields instead.
  const parsed = new URL(url);
  return {
    host: decodeURIComponent(parsed.hostname),
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)) || "postgres",
    allowExitOnIdle: true,
    max: 4,
  };
}

// Bug 3: the stock shadow database is dropped while its own pool still holds connections ("being accessed by
// other users"). Close the shadow pool first, then drop the database.
class OfflineCliPrismaPg extends PrismaPg {
  constructor(private readonly poolConfig: pg.PoolConfig) {
    super(poolConfig);
  }

  override async connect(): ReturnType<PrismaPg["connect"]> {
    const adapter = acceptCatalogTypes(await super.connect());
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (...args) => acceptCatalogTypes(await startTransaction(...args));
    return adapter;
  }

  override async connectToShadowDb(): ReturnType<PrismaPg["connectToShadowDb"]> {
    const admin = await this.connect();
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await new OfflineCliPrismaPg({ ...this.poolConfig, database }).connect();
    const closeShadowPool = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await closeShadowPool();
      await admin.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.dispose();
    };
    return shadow;
  }
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  engine: "js",
  experimental: { adapter: true },
  async adapter() {
    const url = process.env.PRISMA_CLI_DATABASE_URL;
    if (!url) {
      throw new Error("PRISMA_CLI_DATABASE_URL is not set: run the Prisma CLI through `npm run db:drift`.");
    }
    return new OfflineCliPrismaPg(poolConfig(url));
  },
});
