import { backupJson, createBackupEndpoint, listBackupsEndpoint } from "@/lib/api/endpoints/backups";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createBackup, listDatabaseBackups } from "@/lib/domain/backups";

export const GET = handle(listBackupsEndpoint, async ({ ctx, params, query }) => {
  const page = await listDatabaseBackups(getDb(), ctx, params.id, query);
  return { status: 200 as const, body: { items: page.items.map(backupJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createBackupEndpoint, async ({ ctx, params }) => {
  const { backup, operation } = await createBackup(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { backup: backupJson(backup), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/databases/{id}/backups");
