import { importRedisEndpoint } from "@/lib/api/endpoints/backups";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { importRedisExport } from "@/lib/domain/redis-exports";

export const POST = handle(importRedisEndpoint, async ({ ctx, params, body }) => {
  const { operation } = await importRedisExport(getDb(), ctx, params.id, body);
  return {
    status: 202 as const,
    body: { operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/redis/{id}/imports");
