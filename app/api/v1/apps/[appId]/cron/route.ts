import { cronJobJson, getCronEndpoint, putCronEndpoint } from "@/lib/api/endpoints/runs";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getCronJobs, putCronJobs } from "@/lib/domain/cron";

export const GET = handle(getCronEndpoint, async ({ ctx, params }) => {
  const jobs = await getCronJobs(getDb(), ctx, params.appId);
  return { status: 200 as const, body: { jobs: jobs.map(cronJobJson) } };
});

export const PUT = handle(putCronEndpoint, async ({ ctx, params, body }) => {
  const jobs = await putCronJobs(getDb(), ctx, params.appId, body);
  return { status: 200 as const, body: { jobs: jobs.map(cronJobJson) } };
});

export const { POST, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/cron");
