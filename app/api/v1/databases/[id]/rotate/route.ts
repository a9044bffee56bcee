import { operationJson } from "@/lib/api/endpoints/identity";
import { databaseJson, rotateDatabaseEndpoint } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { rotateDatabasePassword } from "@/lib/domain/databases";

export const POST = handle(rotateDatabaseEndpoint, async ({ ctx, params }) => {
  const { database, operation } = await rotateDatabasePassword(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { database: databaseJson(database), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/databases/{id}/rotate");
