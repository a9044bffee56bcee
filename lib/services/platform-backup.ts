// The platform's own backup (`npm run manage -- backup <file>` / `restore <file>`; docs/operations.md, "Backing up the
// platform and disaster recovery"). One uncompressed tar archive (the dump is compressed already, uploads are
// .tar.gz) holding:
//   manifest.json  format version, creation time, platform version, last applied migration, server major, and a key
//                  check value (HMAC-SHA256 of a fixed text under TUSSILAGO_SECRET_KEY): a restore with another key
//                  refuses up front instead of leaving sealed values nobody can open. Never the key itself.
//   platform.dump  pg_dump -Fc of the platform database.
//   data/...       what a restore needs from the data directory: uploads/ (sources of builds not yet run) and git/
//                  (the CA bundle made from TUSSILAGO_GIT_CA_FILE); with --with-logs also logs/deployments and
//                  logs/runs. Not builds/ (workspaces are rebuilt), not the embedded clusters, not secrets/ (the new
//                  data directory's clusters generate their own passwords), not the tenant databases (their own
//                  backups).
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { Logger } from "pino";
import * as tar from "tar";
import { z } from "zod";
import { migrateAll, migrationStatus } from "@/lib/database/migrate";
import { dumpPlatformDatabase, restorePlatformDatabase } from "@/lib/infra/pg-backup";

export const BACKUP_FORMAT = 1;
const KEY_CHECK_TEXT = "tussilago backup key check";
const MANIFEST = "manifest.json";
const DUMP = "platform.dump";
const DATA = "data";
const DATA_DIRS = ["uploads", "git"] as const;
const LOG_DIRS = ["logs/deployments", "logs/runs"] as const;

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.iso.datetime(),
  platformVersion: z.string(),
  migration: z.string().nullable(),
  serverMajor: z.number().int(),
  keyCheck: z.string().regex(/^[0-9a-f]{64}$/),
  data: z.array(z.string()),
});

export type PlatformBackupManifest = z.infer<typeof manifestSchema>;

export class PlatformBackupError extends Error {
  override name = "PlatformBackupError";
}

export function keyCheckValue(secretKey: string): string {
  return createHmac("sha256", secretKey).update(KEY_CHECK_TEXT).digest("hex");
}

async function platformVersion(): Promise<string> {
  const manifest = JSON.parse(await fs.readFile(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: string;
  };
  return manifest.version ?? "unknown";
}

async function exists(file: string): Promise<boolean> {
  return await fs
    .stat(file)
    .then(() => true)
    .catch(() => false);
}

/** A private working directory inside the data directory (same filesystem as the data, never world-readable). */
async function workDir(dataDir: string, kind: string): Promise<string> {
  const dir = path.join(dataDir, "tmp", `${kind}-${randomUUID()}`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export type BackupInput = {
  dataDir: string;
  secretKey: string;
  /** The platform database, directly (not through a pooler). */
  databaseUrl: string;
  file: string;
  withLogs?: boolean;
  log: Logger;
};

export async function backupPlatform(i: BackupInput): Promise<{ manifest: PlatformBackupManifest; bytes: number }> {
  const work = await workDir(i.dataDir, "backup");
  try {
    const status = await migrationStatus(i.databaseUrl);
    const dumpFile = path.join(work, DUMP);
    const dump = await dumpPlatformDatabase({ databaseUrl: i.databaseUrl, outFile: dumpFile });
    const candidates = [...DATA_DIRS, ...(i.withLogs ? LOG_DIRS : [])];
    const data: string[] = [];
    for (const dir of candidates) if (await exists(path.join(i.dataDir, dir))) data.push(dir);
    const manifest: PlatformBackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      platformVersion: await platformVersion(),
      migration: status.applied.at(-1) ?? null,
      serverMajor: Math.floor(dump.serverVersionNum / 10_000),
      keyCheck: keyCheckValue(i.secretKey),
      data,
    };
    await fs.writeFile(path.join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // Written beside the target and renamed at the end, so a failed run never leaves a truncated archive that
    // looks like a backup. The archive holds sealed secrets and the whole platform database: 0600.
    const partial = `${i.file}.partial-${randomUUID()}`;
    try {
      await fs.writeFile(partial, "", { mode: 0o600 });
      await tar.create({ file: partial, cwd: work, portable: true }, [MANIFEST, DUMP]);
      if (data.length > 0) await tar.replace({ file: partial, cwd: i.dataDir, portable: true, prefix: DATA }, data);
      await fs.rename(partial, i.file);
    } catch (error) {
      await fs.rm(partial, { force: true });
      throw error;
    }
    const { size } = await fs.stat(i.file);
    i.log.info({ file: i.file, bytes: size, migration: manifest.migration }, "platform backup written");
    return { manifest, bytes: size };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The manifest of an archive, checked against this installation's secret key. */
export async function readBackupManifest(file: string, secretKey: string): Promise<PlatformBackupManifest> {
  let text: string | null = null;
  try {
    await tar.list({
      file,
      filter: (entry) => entry === MANIFEST,
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on("data", (chunk: Buffer) => chunks.push(chunk));
        entry.on("end", () => {
          text = Buffer.concat(chunks).toString("utf8");
        });
      },
    });
  } catch (error) {
    throw new PlatformBackupError(`${file} is not a readable platform backup: ${(error as Error).message}`);
  }
  if (text === null) throw new PlatformBackupError(`${file} holds no ${MANIFEST}: not a platform backup`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PlatformBackupError(`the ${MANIFEST} of ${file} is not JSON`);
  }
  const format = (parsed as { format?: unknown }).format;
  if (format !== BACKUP_FORMAT) {
    throw new PlatformBackupError(`${file} has backup format ${String(format)}; this release reads ${BACKUP_FORMAT}`);
  }
  const manifest = manifestSchema.safeParse(parsed);
  if (!manifest.success) throw new PlatformBackupError(`the ${MANIFEST} of ${file} is invalid`);
  const expected = Buffer.from(keyCheckValue(secretKey), "hex");
  if (!timingSafeEqual(expected, Buffer.from(manifest.data.keyCheck, "hex"))) {
    throw new PlatformBackupError(
      "this backup was made with another TUSSILAGO_SECRET_KEY: the sealed values in it (env vars, tenant " +
        "credentials, tokens) would not open. Set the key the backed-up installation used and run the restore again.",
    );
  }
  return manifest.data;
}

async function platformTables(databaseUrl: string): Promise<{ tables: number; serverMajor: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ tables: number; version: string }>(
      "SELECT (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') " +
        "AND n.nspname !~ '^pg_') AS tables, current_setting('server_version_num') AS version",
    );
    return { tables: rows[0]?.tables ?? 0, serverMajor: Math.floor(Number(rows[0]?.version) / 10_000) };
  } finally {
    await client.end();
  }
}

export type RestoreInput = {
  dataDir: string;
  secretKey: string;
  databaseUrl: string;
  file: string;
  /** Restore over a platform database that already has tables (they are dropped) and existing data files. */
  force?: boolean;
  log: Logger;
};

export type RestoreSummary = {
  manifest: PlatformBackupManifest;
  tables: number;
  rows: number;
  /** Migrations applied after the restore because the backup came from an older release. */
  migrated: string[];
  data: string[];
};

export async function restorePlatform(i: RestoreInput): Promise<RestoreSummary> {
  const manifest = await readBackupManifest(i.file, i.secretKey);
  const status = await migrationStatus(i.databaseUrl).catch(() => null);
  const target = await platformTables(i.databaseUrl);
  if (target.tables > 0 && !i.force) {
    throw new PlatformBackupError(
      `the platform database already has ${target.tables} tables: restore into a fresh data directory (or an empty ` +
        "database), or pass --force to replace everything in it",
    );
  }
  if (target.serverMajor < manifest.serverMajor) {
    throw new PlatformBackupError(
      `the backup comes from PostgreSQL ${manifest.serverMajor}; this platform database runs ${target.serverMajor}`,
    );
  }
  const work = await workDir(i.dataDir, "restore");
  try {
    await tar.extract({ file: i.file, cwd: work, filter: (entry) => entry === DUMP });
    const dumpFile = path.join(work, DUMP);
    if (!(await exists(dumpFile))) throw new PlatformBackupError(`${i.file} holds no ${DUMP}`);
    // Known migrations only: a backup from a newer release has tables this code does not know how to run.
    const known = status ? [...status.applied, ...status.pending] : [];
    if (manifest.migration && known.length > 0 && !known.includes(manifest.migration)) {
      throw new PlatformBackupError(
        `the backup's schema (${manifest.migration}) is newer than this release knows: restore it with that release`,
      );
    }
    const restored = await restorePlatformDatabase({
      databaseUrl: i.databaseUrl,
      dumpFile,
      clear: target.tables > 0,
    });
    // Only the directories the manifest lists, below data/, and nothing that leaves it (tar refuses `..` and
    // absolute paths unless told otherwise; the prefix filter is the second fence).
    const allowed = manifest.data.filter((dir) => [...DATA_DIRS, ...LOG_DIRS].includes(dir as never));
    if (allowed.length > 0) {
      await tar.extract({
        file: i.file,
        cwd: i.dataDir,
        strip: 1,
        keep: !i.force,
        filter: (entry) => allowed.some((dir) => entry === `${DATA}/${dir}` || entry.startsWith(`${DATA}/${dir}/`)),
      });
    }
    const { applied } = await migrateAll(i.databaseUrl, i.log);
    i.log.info({ file: i.file, migration: manifest.migration, applied }, "platform backup restored");
    return { manifest, tables: restored.tables, rows: restored.rows, migrated: applied, data: allowed };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
