import { Readable } from "node:stream";
import { downloadBackupEndpoint } from "@/lib/api/endpoints/backups";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { prepareBackupDownload } from "@/lib/domain/backups";
import { backupStoreConfig, getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { BackupStoreError, backupEncryptionKey, createBackupStore } from "@/lib/infra/backup-store";

// Reading the store here is I/O of a request's own answer, not an infrastructure command: nothing changes, and the
// bytes go straight from the store (decrypted and authenticated chunk by chunk) to the client.
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

export const GET = handle(downloadBackupEndpoint, async ({ ctx, params, log }) => {
  const { storageKey, fileName, backup } = await prepareBackupDownload(getDb(), ctx, params.id);
  const source = await openStored(storageKey);
  // The store errors the stream on a chunk that fails authentication; toWeb passes the error on, so the response is
  // aborted (no final chunk), never ended as if the file were whole.
  source.on("error", (err) => log.error({ err, backupId: backup.id }, "backup download aborted"));
  return {
    status: 200 as const,
    stream: Readable.toWeb(source) as ReadableStream<Uint8Array>,
    // The name is ASCII letters, digits, "-" and "." only (downloadFileName), so it needs no quoting rules.
    headers: { "content-disposition": `attachment; filename="${fileName}"` },
  };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/backups/{id}/download");
