import { backupJson, createRedisExportEndpoint } from "@/lib/api/endpoints/backups";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createRedisExport } from "@/lib/domain/redis-exports";

export const POST = handle(createRedisExportEndpoint, async ({ ctx, params }) => {
  const { export: created, operation } = await createRedisExport(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { backup: backupJson(created), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/redis/{id}/exports");
