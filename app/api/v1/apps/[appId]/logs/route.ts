import { appLogsEndpoint } from "@/lib/api/endpoints/apps";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { readAppLogs } from "@/lib/domain/app-logs";

export const GET = handle(appLogsEndpoint, async ({ ctx, params, query }) => {
  return { status: 200 as const, body: await readAppLogs(getDb(), ctx, params.appId, query) };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/logs");
