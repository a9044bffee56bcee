// One embedded PostgreSQL for the whole test run, in a throwaway directory, with a migrated template database.
// Each test file gets its own database cloned from the template (test/setup-file.ts), so no state bleeds.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, withDatabase } from "@/lib/database/embedded";
import { migrateAll } from "@/lib/database/migrate";

export const TEMPLATE_DATABASE = "tussilago_template";

declare module "vitest" {
  export interface ProvidedContext {
    testDatabase: { adminUrl: string; template: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = pino({ level: "warn" });
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-test-"));
  await fs.chmod(scratch, 0o711);
  const server = await startEmbeddedPostgres({
    dataDir: scratch,
    directory: path.join(scratch, "pg"),
    log,
    // Durability is pointless for a throwaway cluster and costs seconds per test file.
    settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "300" },
  });
  const adminUrl = withDatabase(server.url, "postgres");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  await migrateAll(withDatabase(server.url, TEMPLATE_DATABASE), log);
  project.provide("testDatabase", { adminUrl, template: TEMPLATE_DATABASE });
  return async () => {
    await server.stop();
    await fs.rm(scratch, { recursive: true, force: true });
  };
}
