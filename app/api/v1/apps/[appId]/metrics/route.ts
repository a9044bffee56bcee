import { appMetricsEndpoint, appMetricsJson } from "@/lib/api/endpoints/metrics";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getAppMetrics } from "@/lib/domain/metrics";

export const GET = handle(appMetricsEndpoint, async ({ ctx, params, query }) => ({
  status: 200 as const,
  body: appMetricsJson(await getAppMetrics(getDb(), ctx, params.appId, query.range)),
}));

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/metrics");
