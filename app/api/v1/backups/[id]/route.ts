import { backupJson, deleteBackupEndpoint, getBackupEndpoint } from "@/lib/api/endpoints/backups";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteBackup, getBackup } from "@/lib/domain/backups";

export const GET = handle(getBackupEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { backup: backupJson(await getBackup(getDb(), ctx, params.id)) } };
});

export const DELETE = handle(deleteBackupEndpoint, async ({ ctx, params }) => {
  const { operation } = await deleteBackup(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { POST, PUT, PATCH, OPTIONS } = methodsNotAllowed("/api/v1/backups/{id}");
