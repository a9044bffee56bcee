import { getOperationEndpoint, operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getOperation } from "@/lib/domain/operations-read";

export const GET = handle(getOperationEndpoint, async ({ ctx, params }) => {
  const operation = await getOperation(getDb(), ctx, params.id);
  return { status: 200 as const, body: { operation: operationJson(operation) } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/operations/{id}");
