// What the backup engine needs from the outside world, as the adapters of #16a (lib/infra/pg-backup), #16b
// (lib/infra/backup-store, lib/infra/tenant-redis's export/import) provide it. The engine takes these as arguments so
// its tests can inject the real adapters or a fault (a corrupted object, a failing verification) at this boundary,
// and the task files build them once from the environment (adapters.ts), binding the tenant servers' admin
// connections there: the engine never sees a server's credentials.
import type { Logger } from "pino";
import type { Db } from "@/lib/db";

export type TableCount = { schema: string; table: string; rows: number };

export type VerifyResult = { ok: true; tables: number; rows: number } | { ok: false; reason: string };

export type PgBackupAdapter = {
  dumpTenantDatabase(input: { resourceId: string; outFile: string }): Promise<{ counts: TableCount[]; bytes: number }>;
  verifyDump(input: {
    resourceId: string;
    dumpFile: string;
    expected: TableCount[];
    scratchId: string;
  }): Promise<VerifyResult>;
  restoreDump(input: {
    resourceId: string;
    dumpFile: string;
    mode: "empty" | "replace";
  }): Promise<{ tables: number; rows: number }>;
  dropStaleScratchDatabases(keepScratchIds: string[]): Promise<string[]>;
};

export type RedisTransferAdapter = {
  exportTenantRedis(input: { resourceId: string; outFile: string }): Promise<{ keys: number; bytes: number }>;
  importTenantRedis(input: {
    resourceId: string;
    inFile: string;
    mode: "merge" | "replace";
  }): Promise<{ keys: number }>;
};

/** The subset of lib/infra/backup-store's BackupStore the engine uses. */
export type BackupObjectStore = {
  put(key: string, plainFile: string): Promise<{ storedBytes: number }>;
  get(key: string, destFile: string): Promise<void>;
  delete(key: string): Promise<void>;
};

export type BackupDeps = {
  db: Db;
  log: Logger;
  pg: PgBackupAdapter;
  redis: RedisTransferAdapter;
  store: BackupObjectStore;
  /** Where dumps wait between the dump, the verification and the upload (<data dir>/tmp/backups). */
  tmpDir: string;
};
