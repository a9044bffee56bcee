import { hkdfSync } from "node:crypto";
import { BackupStoreError } from "./errors";

// Object keys and the store's encryption key.

const KEY_CHARS = /^[a-z0-9/_.-]+$/;
const MAX_KEY_LENGTH = 512;

/**
 * Keys are platform-made, but a key is also a path under the local directory and an object name under the bucket's
 * prefix: one with "..", a leading "/", an empty segment or another character could name something outside the
 * store, so it is refused rather than cleaned.
 */
export function checkKey(key: string): string {
  const ok =
    typeof key === "string" &&
    key.length > 0 &&
    key.length <= MAX_KEY_LENGTH &&
    KEY_CHARS.test(key) &&
    // No empty segment, and none starting with ".": the local store keeps its temporary files under ".tmp".
    key.split("/").every((segment) => segment !== "" && !segment.startsWith(".")) &&
    !key.includes("..");
  if (!ok) throw new BackupStoreError("config", "invalid object key");
  return key;
}

/** A listing prefix: "" (everything) or a key's beginning, with the same characters and no "..". */
export function checkPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  const ok =
    typeof prefix === "string" &&
    prefix.length <= MAX_KEY_LENGTH &&
    KEY_CHARS.test(prefix) &&
    !prefix.startsWith("/") &&
    !prefix.includes("..") &&
    !prefix.includes("//");
  if (!ok) throw new BackupStoreError("config", "invalid listing prefix");
  return prefix;
}

// HKDF's info label: its own purpose, so the backup key reveals no other key derived from the secret key (lib/env.ts
// derives the others with the same salt and their own labels).
const BACKUP_KEY_INFO = "tussilago/v1/backup-store-secretstream-xchacha20poly1305";

/** The 32-byte key backups are encrypted with: HKDF-SHA256 of TUSSILAGO_SECRET_KEY, never the secret key itself. */
export function backupEncryptionKey(secretKey: string): Buffer {
  if (typeof secretKey !== "string" || secretKey.length === 0) {
    throw new BackupStoreError("config", "the secret key is empty");
  }
  return Buffer.from(hkdfSync("sha256", secretKey, "tussilago", BACKUP_KEY_INFO, 32));
}
