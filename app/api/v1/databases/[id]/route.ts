import { operationJson } from "@/lib/api/endpoints/identity";
import {
  databaseJson,
  deleteDatabaseEndpoint,
  getDatabaseEndpoint,
  updateDatabaseEndpoint,
} from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteDatabase, getDatabase, updateDatabase } from "@/lib/domain/databases";

export const GET = handle(getDatabaseEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { database: databaseJson(await getDatabase(getDb(), ctx, params.id)) } };
});

export const PATCH = handle(updateDatabaseEndpoint, async ({ ctx, params, body }) => {
  const { database, operation } = await updateDatabase(getDb(), ctx, params.id, body);
  if (!operation) return { status: 200 as const, body: { database: databaseJson(database) } };
  return {
    status: 202 as const,
    body: { database: databaseJson(database), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const DELETE = handle(deleteDatabaseEndpoint, async ({ ctx, params }) => {
  const { database, operation } = await deleteDatabase(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { database: databaseJson(database), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { POST, PUT, OPTIONS } = methodsNotAllowed("/api/v1/databases/{id}");
