import { restoreBackupEndpoint } from "@/lib/api/endpoints/backups";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { restoreBackup } from "@/lib/domain/backups";

export const POST = handle(restoreBackupEndpoint, async ({ ctx, params, body }) => {
  const { operation, databaseId, safetyBackupId } = await restoreBackup(getDb(), ctx, params.id, body);
  return {
    status: 202 as const,
    body: { operation: operationJson(operation), databaseId, safetyBackupId },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/backups/{id}/restore");
