// A backup's download, shared by the REST endpoint (GET /api/v1/backups/{id}/download) and the portal's link: the
// domain authorizes and audits (prepareBackupDownload), this opens the stored object and makes the answer's stream.
// Reading the store is I/O of a request's own answer, not an infrastructure command: nothing changes, and the bytes
// go straight from the store (decrypted and authenticated chunk by chunk) to the client.
import { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import { prepareBackupDownload } from "@/lib/domain/backups";
import type { Ctx } from "@/lib/domain/context";
import { backupStoreConfig, getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { BackupStoreError, backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";

async function openStored(key: string): Promise<Readable> {
  const env = getEnv();
  const store = createBackupStore(backupStoreConfig(env), backupEncryptionKey(env.secretKey));
  try {
    return (await store.openRead(key)) as Readable;
  } catch (error) {
    if (!(error instanceof BackupStoreError)) throw error;
    if (error.kind === "unavailable") throw new AppError("unavailable", error.userMessage, { retryAfter: 5 });
    if (error.kind === "not_found" || error.kind === "corrupt") throw new AppError("conflict", error.userMessage);
    // auth or config: the operator's to fix; the client gets a 500 and the log the reason.
    throw error;
  }
}

export async function openBackupDownload(
  db: Db,
  ctx: Ctx,
  backupId: string,
  log: Logger,
): Promise<{ stream: ReadableStream<Uint8Array>; headers: Record<string, string> }> {
  const { storageKey, fileName, backup } = await prepareBackupDownload(db, ctx, backupId);
  const source = await openStored(storageKey);
  // The store errors the stream on a chunk that fails authentication; toWeb passes the error on, so the response is
  // aborted (no final chunk, no Content-Length to satisfy), never ended as if the file were whole.
  source.on("error", (err) => log.error({ err, backupId: backup.id }, "backup download aborted"));
  return {
    stream: Readable.toWeb(source) as ReadableStream<Uint8Array>,
    // The name is ASCII letters, digits, "-" and "." only (downloadFileName), so it needs no quoting rules.
    headers: { "content-disposition": `attachment; filename="${fileName}"` },
  };
}
