// The disaster recovery procedure of docs/operations.md, followed on the test cluster: a seeded platform database
// (a team, an app, env vars sealed with the key) and data files → backup → a fresh data directory and an empty
// platform database → restore → rows and sealed values readable with the same key; another key is refused.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { withDatabase } from "@/lib/database/embedded";
import { createPrismaClient, getDb } from "@/lib/db";
import { createApp } from "@/lib/domain/apps";
import { resolveEnvForRelease, setEnvVars } from "@/lib/domain/env-vars";
import { getEnv } from "@/lib/env";
import {
  backupPlatform,
  PlatformBackupError,
  readBackupManifest,
  restorePlatform,
} from "@/lib/services/platform-backup";
import { rejectionOf } from "@/test/errors";
import { createTestTeam, createTestUser, userCtx } from "@/test/factories";

const { adminUrl } = inject("testDatabase");
const log = pino({ level: "silent" });
const databases: string[] = [];
let scratch: string;

beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "platform-backup-test-"));
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
  await fs.rm(scratch, { recursive: true, force: true });
});

async function freshDatabase(): Promise<string> {
  const name = `restore_${randomUUID().replaceAll("-", "")}`;
  databases.push(name);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  await client.end();
  return withDatabase(adminUrl, name);
}

async function tableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    );
    return rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

describe("platform backup and disaster recovery", () => {
  it("restores teams, apps and sealed env vars into a fresh data directory; another key is refused", async () => {
    const env = getEnv();
    const user = await createTestUser();
    const team = await createTestTeam(user.id);
    const ctx = await userCtx(user.id, team.id);
    const app = await createApp(getDb(), ctx, { name: `dr-${randomBytes(3).toString("hex")}` });
    const secret = `s3cret-${randomBytes(8).toString("hex")}`;
    await setEnvVars(getDb(), ctx, app.id, { API_TOKEN: secret });
    const upload = randomBytes(64);
    await fs.mkdir(path.join(env.dataDir, "uploads"), { recursive: true });
    await fs.writeFile(path.join(env.dataDir, "uploads", `${randomUUID()}.tar.gz`), upload);
    await fs.mkdir(path.join(env.dataDir, "logs", "deployments"), { recursive: true });
    await fs.writeFile(path.join(env.dataDir, "logs", "deployments", `${randomUUID()}.log`), "build output\n");
    await fs.mkdir(path.join(env.dataDir, "builds", "workspace"), { recursive: true });

    const file = path.join(scratch, "platform.tar");
    const databaseUrl = process.env.DATABASE_URL ?? "";
    const backup = await backupPlatform({ dataDir: env.dataDir, secretKey: env.secretKey, databaseUrl, file, log });
    expect(backup.manifest).toMatchObject({ format: 1, data: ["uploads"] });
    expect(backup.manifest.migration).toMatch(/^\d{14}_/);
    expect(JSON.stringify(backup.manifest)).not.toContain(env.secretKey);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await readBackupManifest(file, env.secretKey)).toEqual(backup.manifest);

    const dataDir = await fs.mkdtemp(path.join(scratch, "fresh-"));
    const freshUrl = await freshDatabase();
    const wrongKey = await rejectionOf(
      restorePlatform({
        dataDir,
        secretKey: "another-secret-key-of-enough-length-000",
        databaseUrl: freshUrl,
        file,
        log,
      }),
    );
    expect(wrongKey).toBeInstanceOf(PlatformBackupError);
    expect((wrongKey as Error).message).toMatch(/another TUSSILAGO_SECRET_KEY/);
    expect(await tableCount(freshUrl)).toBe(0);

    const summary = await restorePlatform({ dataDir, secretKey: env.secretKey, databaseUrl: freshUrl, file, log });
    expect(summary).toMatchObject({ migrated: [], data: ["uploads"] });
    expect(summary.tables).toBeGreaterThan(0);
    const restored = createPrismaClient(freshUrl, 2);
    try {
      const found = await restored.app.findUnique({ where: { id: app.id }, include: { team: true } });
      expect(found).toMatchObject({ name: app.name, team: { id: team.id } });
      expect(await resolveEnvForRelease(restored, app.id)).toEqual({ API_TOKEN: secret });
    } finally {
      await restored.$disconnect();
    }
    const uploads = await fs.readdir(path.join(dataDir, "uploads"));
    expect(await fs.readFile(path.join(dataDir, "uploads", uploads[0] ?? ""))).toEqual(upload);
    // Neither logs (no --with-logs) nor build workspaces.
    await expect(fs.stat(path.join(dataDir, "logs"))).rejects.toThrow();
    await expect(fs.stat(path.join(dataDir, "builds"))).rejects.toThrow();

    // A second restore over the now populated database needs --force.
    const again = await rejectionOf(
      restorePlatform({ dataDir, secretKey: env.secretKey, databaseUrl: freshUrl, file, log }),
    );
    expect((again as Error).message).toMatch(/already has \d+ tables.*--force/);
    const forced = await restorePlatform({
      dataDir,
      secretKey: env.secretKey,
      databaseUrl: freshUrl,
      file,
      log,
      force: true,
    });
    expect(forced.tables).toBe(summary.tables);
  });

  it("carries the deployment and run logs with --with-logs, and refuses what is not a backup", async () => {
    const env = getEnv();
    await fs.mkdir(path.join(env.dataDir, "logs", "runs"), { recursive: true });
    await fs.writeFile(path.join(env.dataDir, "logs", "runs", `${randomUUID()}.log`), "run output\n");
    const file = path.join(scratch, "with-logs.tar");
    const databaseUrl = process.env.DATABASE_URL ?? "";
    const backup = await backupPlatform({
      dataDir: env.dataDir,
      secretKey: env.secretKey,
      databaseUrl,
      file,
      withLogs: true,
      log,
    });
    expect(backup.manifest.data).toContain("logs/runs");
    const dataDir = await fs.mkdtemp(path.join(scratch, "fresh-"));
    await restorePlatform({ dataDir, secretKey: env.secretKey, databaseUrl: await freshDatabase(), file, log });
    expect((await fs.readdir(path.join(dataDir, "logs", "runs"))).length).toBeGreaterThan(0);

    const junk = path.join(scratch, "junk.tar");
    await fs.writeFile(junk, randomBytes(2048));
    expect(await rejectionOf(readBackupManifest(junk, env.secretKey))).toBeInstanceOf(PlatformBackupError);
  });
});
