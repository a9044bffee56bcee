import { operationJson } from "@/lib/api/endpoints/identity";
import { createDatabaseEndpoint, databaseJson, listDatabasesEndpoint } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createDatabase, listDatabases } from "@/lib/domain/databases";

export const GET = handle(listDatabasesEndpoint, async ({ ctx, query }) => {
  const page = await listDatabases(getDb(), ctx, query);
  return { status: 200 as const, body: { items: page.items.map(databaseJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createDatabaseEndpoint, async ({ ctx, body }) => {
  const { database, operation } = await createDatabase(getDb(), ctx, body);
  return {
    status: 202 as const,
    body: { database: databaseJson(database), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/databases");
