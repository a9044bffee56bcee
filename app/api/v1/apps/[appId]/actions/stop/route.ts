import { appJson, stopAppEndpoint } from "@/lib/api/endpoints/apps";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { stopApp } from "@/lib/domain/lifecycle";

export const POST = handle(stopAppEndpoint, async ({ ctx, params }) => {
  const { app, operation } = await stopApp(getDb(), ctx, params.appId);
  return {
    status: 202 as const,
    body: { app: appJson(app), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/actions/stop");
