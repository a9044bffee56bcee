// Is the backup store usable? A tiny probe object is put, read back (decrypted and authenticated) and deleted, so
// the check covers what a backup needs: the directory or bucket, the credentials, the rights and the key. Shown by
// `manage check` and the admin host page (check.ts); the backup jobs can ask for it before a long dump.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CheckResult, CheckSection } from "@/lib/checks/report";
import { backupStoreConfig, type Env } from "@/lib/env";
import { type BackupStore, BackupStoreError, backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";

const NAME = "backup store";

// Platform keys are <teamId>/...: a fixed first segment that is no UUID cannot meet a backup's key.
export function probeKey(): string {
  return `platform-probe/${randomUUID()}.probe`;
}

export async function probeBackupStore(store: BackupStore): Promise<CheckResult> {
  const where = store.describe();
  const work = await mkdtemp(path.join(tmpdir(), "tussilago-backup-probe-"));
  const key = probeKey();
  try {
    const bytes = randomBytes(64);
    await writeFile(path.join(work, "in"), bytes);
    await store.put(key, path.join(work, "in"));
    await store.get(key, path.join(work, "out"));
    if (!(await readFile(path.join(work, "out"))).equals(bytes)) {
      return { name: NAME, status: "error", message: `${where}: the probe object came back different` };
    }
    await store.delete(key);
    return { name: NAME, status: "ok", message: `${where}: writable and readable` };
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    const what = error instanceof BackupStoreError ? `${error.kind}: ${error.message}` : (error as Error).message;
    return { name: NAME, status: "error", message: `${where} is not usable (${what})` };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function backupStoreSection(env: Env): Promise<CheckSection> {
  const store = createBackupStore(backupStoreConfig(env), backupEncryptionKey(env.secretKey));
  return { name: "backups", checks: [await probeBackupStore(store)] };
}
