import { appJson, createAppEndpoint, listAppsEndpoint } from "@/lib/api/endpoints/apps";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createApp, listApps } from "@/lib/domain/apps";

export const GET = handle(listAppsEndpoint, async ({ ctx, query }) => {
  const page = await listApps(getDb(), ctx, query);
  return { status: 200 as const, body: { items: page.items.map(appJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createAppEndpoint, async ({ ctx, body }) => {
  const app = await createApp(getDb(), ctx, body);
  return { status: 201 as const, body: { app: appJson(app) } };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps");
