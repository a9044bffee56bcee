// What the backup store takes and gives back (pure: no I/O here, so configuration code may import it).

export type BackupStoreConfig =
  | { kind: "local"; dir: string }
  | {
      kind: "s3";
      bucket: string;
      // Without leading or trailing "/"; "" stores at the bucket's root.
      prefix: string;
      region: string;
      // An S3-compatible server (MinIO, Garage, R2); unset: AWS.
      endpoint?: string;
      forcePathStyle: boolean;
      accessKeyId: string;
      secretAccessKey: string;
    };

export type StoredObject = { key: string; bytes: number; modifiedAt: Date };

// Keys are made by the platform (`<teamId>/<databaseId>/<backupId>.dump`), never by a tenant; they are still checked
// (keys.ts) so that no key can name anything outside the store.
export interface BackupStore {
  /** Encrypts `plainFile` while streaming it to `key`; storedBytes is the encrypted size. */
  put(key: string, plainFile: string): Promise<{ storedBytes: number }>;
  /** Downloads, decrypts and authenticates `key` into `plainDestFile` (written whole or not at all). */
  get(key: string, plainDestFile: string): Promise<void>;
  /**
   * The decrypted object as a stream, for a download endpoint. Every chunk it yields has been authenticated; a
   * tampered or truncated object errors the stream (kind corrupt) instead of ending it.
   */
  openRead(key: string): Promise<NodeJS.ReadableStream>;
  /** Idempotent: a missing object is fine. */
  delete(key: string): Promise<void>;
  /** Objects whose key starts with `prefix` ("" lists all); bytes are the stored (encrypted) size. */
  list(prefix: string): Promise<StoredObject[]>;
  /** "local <dir>" or "s3 <bucket>/<prefix>", never credentials: for logs and readiness reports. */
  describe(): string;
}
