import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream";
import { pipeline as pipelineAsync } from "node:stream/promises";
import { createDecryptStream, createEncryptStream } from "./crypto";
import { BackupStoreError } from "./errors";
import { errnoCode, syncFile, writeWhole } from "./files";
import { checkKey, checkPrefix } from "./keys";
import type { BackupStore, StoredObject } from "./types";

// The store in a local directory (by default <data dir>/backups). Directories 0700, files 0600. An object is written
// to a temporary file under <dir>/.tmp (same file system) and renamed to its key once complete and synced, so a crash
// never leaves a half object under a final key. Temporary names are unique; `sweepTemporary` removes the leftovers of
// a crash once they are a day old.

const TEMP_DIR = ".tmp";
const TEMP_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export function createLocalBackupStore(dir: string, encryptionKey: Buffer): BackupStore {
  const root = path.resolve(dir);
  const pathOf = (key: string): string => {
    const file = path.join(root, ...checkKey(key).split("/"));
    // checkKey already rules out escaping; this is the belt to its braces.
    if (!file.startsWith(`${root}${path.sep}`)) throw new BackupStoreError("config", "invalid object key");
    return file;
  };
  const ensureDir = async (target: string): Promise<void> => {
    await mkdir(root, { recursive: true, mode: 0o700 });
    await chmod(root, 0o700);
    await mkdir(target, { recursive: true, mode: 0o700 });
  };
  const openObject = async (key: string) => {
    const file = pathOf(key);
    try {
      return await open(file, "r");
    } catch (error) {
      if (errnoCode(error) === "ENOENT") throw new BackupStoreError("not_found", `no object ${key}`);
      throw new BackupStoreError("unavailable", `cannot read ${key}`, { cause: error });
    }
  };

  return {
    async put(key, plainFile) {
      const file = pathOf(key);
      const tempDir = path.join(root, TEMP_DIR);
      try {
        await ensureDir(tempDir);
        await ensureDir(path.dirname(file));
      } catch (error) {
        throw new BackupStoreError("unavailable", `cannot create the store's directories for ${key}`, { cause: error });
      }
      const temp = path.join(tempDir, `${randomUUID()}.part`);
      const encrypt = await createEncryptStream(encryptionKey, key);
      try {
        await pipelineAsync(
          createReadStream(plainFile),
          encrypt,
          createWriteStream(temp, { flags: "wx", mode: 0o600 }),
        );
        const storedBytes = await syncFile(temp);
        await rename(temp, file);
        return { storedBytes };
      } catch (error) {
        await rm(temp, { force: true });
        if (errnoCode(error) === "ENOENT") throw new BackupStoreError("config", "the file to store does not exist");
        throw new BackupStoreError("unavailable", `cannot write ${key}`, { cause: error });
      }
    },

    async get(key, plainDestFile) {
      const handle = await openObject(key);
      await writeWhole(handle.createReadStream(), await createDecryptStream(encryptionKey, key), plainDestFile);
    },

    async openRead(key) {
      const handle = await openObject(key);
      const decrypt = await createDecryptStream(encryptionKey, key);
      // An error on either side destroys both; the reader sees it as the stream's error.
      return pipeline(handle.createReadStream(), decrypt, () => undefined);
    },

    async delete(key) {
      await rm(pathOf(key), { force: true });
    },

    async list(prefix) {
      checkPrefix(prefix);
      let entries: string[];
      try {
        entries = await readdir(root, { recursive: true });
      } catch (error) {
        if (errnoCode(error) === "ENOENT") return [];
        throw new BackupStoreError("unavailable", "cannot list the store", { cause: error });
      }
      const found: StoredObject[] = [];
      for (const entry of entries) {
        const key = entry.split(path.sep).join("/");
        if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`) || !key.startsWith(prefix)) continue;
        const info = await stat(path.join(root, entry)).catch(() => null);
        if (info?.isFile()) found.push({ key, bytes: info.size, modifiedAt: info.mtime });
      }
      return found.sort((a, b) => a.key.localeCompare(b.key));
    },

    describe: () => `local ${root}`,
  };
}

/** Removes temporary files a crashed put left behind (older than a day, so none still being written). */
export async function sweepTemporary(dir: string, now: Date = new Date()): Promise<number> {
  const tempDir = path.join(path.resolve(dir), TEMP_DIR);
  let names: string[];
  try {
    names = await readdir(tempDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = path.join(tempDir, name);
    const info = await stat(file).catch(() => null);
    if (info && now.getTime() - info.mtime.getTime() > TEMP_MAX_AGE_MS) {
      await rm(file, { force: true });
      removed += 1;
    }
  }
  return removed;
}
