import { openBackupDownload } from "@/lib/api/backup-download";
import { downloadBackupEndpoint } from "@/lib/api/endpoints/backups";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";

export const GET = handle(downloadBackupEndpoint, async ({ ctx, params, log }) => {
  const { stream, headers } = await openBackupDownload(getDb(), ctx, params.id, log);
  return { status: 200 as const, stream, headers };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/backups/{id}/download");
