"use server";

// The Metrics tab's poll: the same domain function as GET /api/v1/apps/{appId}/metrics, in the API's JSON shape (the
// charts read one format whichever way the data came). Membership is checked on each call; another team's app is
// "not found".
import { z } from "zod";
import { type ActionState, teamCall } from "@/lib/actions";
import { appMetricsJson, type appMetricsSchema } from "@/lib/api/endpoints/metrics";
import { getAppMetrics, METRICS_RANGES } from "@/lib/domain/metrics";

export type MetricsData = z.input<typeof appMetricsSchema>;

const metricsInput = z.strictObject({ teamId: z.uuid(), appId: z.uuid(), range: z.enum(METRICS_RANGES) });

const metricsPoll = teamCall<typeof metricsInput, MetricsData>(metricsInput, async (input, { db, ctx }) => ({
  status: "success",
  data: appMetricsJson(await getAppMetrics(db, ctx, input.appId, input.range)),
}));

export async function pollAppMetrics(teamId: string, appId: string, range: string): Promise<ActionState<MetricsData>> {
  return await metricsPoll({ teamId, appId, range: range as (typeof METRICS_RANGES)[number] });
}
