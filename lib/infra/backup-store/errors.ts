import { InfraError } from "../errors";

// BackupStoreError: what a job can act on when storing or reading a backup failed.
// - not_found: no object under that key;
// - auth: the store refused the credentials or the rights (an operator's fix, not worth a retry);
// - unavailable: the store could not be reached or answered a server error (retryable);
// - corrupt: the object does not decrypt and authenticate (tampered, truncated, another key or another object);
// - config: the configuration or the key is unusable (a missing bucket, an invalid key).
export type BackupStoreErrorKind = "not_found" | "auth" | "unavailable" | "corrupt" | "config";

const USER_MESSAGES: Record<BackupStoreErrorKind, string> = {
  not_found: "The backup file does not exist in the backup store.",
  auth: "The backup store refused the platform's credentials.",
  unavailable: "The backup store is temporarily unavailable. Try again later.",
  corrupt: "The backup file is damaged or was modified: it failed its integrity check.",
  config: "The backup store is not configured correctly.",
};

// Messages name the operation and the key at most (keys are platform-made IDs): never credentials or a server's text.
export class BackupStoreError extends InfraError<BackupStoreErrorKind> {
  constructor(kind: BackupStoreErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(kind, `backup store: ${message}`, {
      cause: options.cause,
      retryable: kind === "unavailable",
      userMessage: USER_MESSAGES[kind],
    });
    this.name = "BackupStoreError";
  }
}
