import type { Metadata } from "next";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { pollAppMetrics } from "@/app/(portal)/teams/[teamId]/apps/[appId]/metrics/actions";
import { MetricsCharts } from "@/components/apps/metrics-charts";
import { Notice } from "@/components/ui";
import { appMetricsJson } from "@/lib/api/endpoints/metrics";
import { getDb } from "@/lib/db";
import { getAppMetrics } from "@/lib/domain/metrics";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Metrics · ${name}` } : {};
}

export default async function AppMetricsPage({ params }: { params: Params }) {
  const { teamId, appId } = await params;
  const { ctx, app } = await appPage(teamId, appId, `/teams/${teamId}/apps/${appId}/metrics`);
  let initial: ReturnType<typeof appMetricsJson>;
  try {
    initial = appMetricsJson(await getAppMetrics(getDb(), ctx, app.id, "1h"));
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }
  return <MetricsCharts teamId={ctx.teamId} appId={app.id} initial={initial} poll={pollAppMetrics} />;
}
