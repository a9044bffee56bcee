// Runs in each test file's process before the file: a fresh database cloned from the migrated template, and the
// environment the platform code expects. Dropped again when the file is done.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, inject } from "vitest";
import { withDatabase } from "@/lib/database/embedded";
import { disconnectDb } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";

const { adminUrl, template } = inject("testDatabase");
const database = `test_${randomUUID().replaceAll("-", "")}`;

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database} TEMPLATE ${template}`);
await admin.end();

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tussilago-test-data-"));
const url = withDatabase(adminUrl, database);
process.env.DATABASE_URL = url;
process.env.DATABASE_DIRECT_URL = url;
process.env.TUSSILAGO_SECRET_KEY = "test-secret-key-that-is-long-enough-for-tests";
process.env.TUSSILAGO_DATA_DIR = dataDir;
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "silent";
// A prepared host's /etc/tussilago/host.env must not change what the tests see.
process.env.TUSSILAGO_HOST_CONFIG = "none";
// The suite never runs real podman or talks to a real Caddy, even on a prepared host: tests that need them install
// the fakes (test/fake-podman/install.ts, test/fake-caddy.ts), everything else finds nothing.
process.env.TUSSILAGO_PODMAN_PATH = "/nonexistent/tussilago-tests-use-the-fake-podman";
process.env.TUSSILAGO_CADDY_ADMIN = "http://127.0.0.1:9";
// Nor does it make cgroups on the host for builds (tests that check them give a fake cgroup root).
process.env.TUSSILAGO_CGROUP_ROOT = "none";
// Quotas (lib/domain/quotas.ts): the production defaults would trip tests that seed many apps or databases in one
// team. The quota tests set their limits explicitly, with per-team or instance overrides.
process.env.TUSSILAGO_QUOTA_APPS = "100000";
process.env.TUSSILAGO_QUOTA_DATABASES = "10000";
process.env.TUSSILAGO_QUOTA_REDIS = "10000";
// 1 MiB per Redis instance: thousands fit the shared Redis's default memory budget (lib/domain/quotas.ts).
process.env.TUSSILAGO_QUOTA_REDIS_MEMORY_MB = "1";
process.env.TUSSILAGO_QUOTA_DB_CONNECTIONS = "100000";
process.env.TUSSILAGO_QUOTA_UPLOAD_MB = "1000000";
process.env.TUSSILAGO_QUOTA_CONCURRENT_BUILDS = "64";
process.env.TUSSILAGO_QUOTA_TEAMS_PER_USER = "10000";
process.env.TUSSILAGO_QUOTA_PROCESSES = "100000";
process.env.TUSSILAGO_QUOTA_BACKUPS = "100000";
process.env.TENANT_PG_MAX_CONNECTIONS = "100000";
resetEnvForTests();

afterAll(async () => {
  await disconnectDb();
  const cleanup = new pg.Client({ connectionString: adminUrl });
  await cleanup.connect();
  await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await cleanup.end();
  await fs.rm(dataDir, { recursive: true, force: true });
});
