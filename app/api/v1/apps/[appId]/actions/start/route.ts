import { appJson, startAppEndpoint } from "@/lib/api/endpoints/apps";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { startApp } from "@/lib/domain/lifecycle";

export const POST = handle(startAppEndpoint, async ({ ctx, params }) => {
  const { app, operation } = await startApp(getDb(), ctx, params.appId);
  return {
    status: 202 as const,
    body: { app: appJson(app), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/actions/start");
