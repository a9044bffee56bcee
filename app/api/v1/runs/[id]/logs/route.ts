import { runLogsEndpoint } from "@/lib/api/endpoints/runs";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { readRunLog } from "@/lib/domain/runs";

export const GET = handle(runLogsEndpoint, async ({ ctx, params, query }) => {
  return { status: 200 as const, body: await readRunLog(getDb(), ctx, params.id, query) };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/runs/{id}/logs");
