// The encrypted backup store (issue #16): objects in a local directory or an S3-compatible bucket, encrypted while
// streaming with a key derived from TUSSILAGO_SECRET_KEY (crypto.ts says how and why). An adapter: configuration is
// injected (lib/env.ts's backupStoreConfig builds it), and it imports nothing of the app.
// By concern: types.ts (config and interface: pure), errors.ts (BackupStoreError), keys.ts (key checks and the
// encryption key), crypto.ts (the streaming AEAD), files.ts (whole-or-nothing files), local.ts, s3.ts.

import { createLocalBackupStore } from "./local";
import { createS3BackupStore } from "./s3";
import type { BackupStore, BackupStoreConfig } from "./types";

export { BackupStoreError, type BackupStoreErrorKind } from "./errors";
export { backupEncryptionKey, checkKey as checkBackupKey } from "./keys";
export { sweepTemporary as sweepLocalBackupTemporaryFiles } from "./local";
export type { BackupStore, BackupStoreConfig, StoredObject } from "./types";

export function createBackupStore(config: BackupStoreConfig, encryptionKey: Buffer): BackupStore {
  if (encryptionKey.length !== 32) throw new RangeError("the backup encryption key must be 32 bytes");
  return config.kind === "local"
    ? createLocalBackupStore(config.dir, encryptionKey)
    : createS3BackupStore(config, encryptionKey);
}
