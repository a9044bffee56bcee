import { operationJson } from "@/lib/api/endpoints/identity";
import { createRunEndpoint, listRunsEndpoint, runJson } from "@/lib/api/endpoints/runs";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createRun, listRuns } from "@/lib/domain/runs";

export const GET = handle(listRunsEndpoint, async ({ ctx, params, query }) => {
  const page = await listRuns(getDb(), ctx, params.appId, query);
  return { status: 200 as const, body: { items: page.items.map(runJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createRunEndpoint, async ({ ctx, params, body }) => {
  const { run, operation } = await createRun(getDb(), ctx, params.appId, body);
  return {
    status: 202 as const,
    body: { run: runJson(run), operation: operationJson(operation) },
    headers: { location: `/api/v1/runs/${run.id}` },
  };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/runs");
