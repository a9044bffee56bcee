import { appJson, scaleAppEndpoint } from "@/lib/api/endpoints/apps";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { scaleApp } from "@/lib/domain/lifecycle";

export const POST = handle(scaleAppEndpoint, async ({ ctx, params, body }) => {
  const { app, operation } = await scaleApp(getDb(), ctx, params.appId, body);
  return {
    status: 202 as const,
    body: { app: appJson(app), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/actions/scale");
