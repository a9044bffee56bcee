import { appJson, deleteAppEndpoint, getAppEndpoint, updateAppEndpoint } from "@/lib/api/endpoints/apps";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteApp, getApp, updateApp } from "@/lib/domain/apps";

export const GET = handle(getAppEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { app: appJson(await getApp(getDb(), ctx, params.appId)) } };
});

export const PATCH = handle(updateAppEndpoint, async ({ ctx, params, body }) => {
  return { status: 200 as const, body: { app: appJson(await updateApp(getDb(), ctx, params.appId, body)) } };
});

export const DELETE = handle(deleteAppEndpoint, async ({ ctx, params }) => {
  const { app, operation } = await deleteApp(getDb(), ctx, params.appId);
  return {
    status: 202 as const,
    body: { app: appJson(app), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { POST, PUT, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}");
