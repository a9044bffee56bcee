import { cancelRunEndpoint, runJson } from "@/lib/api/endpoints/runs";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { cancelRun } from "@/lib/domain/runs";

export const POST = handle(cancelRunEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { run: runJson(await cancelRun(getDb(), ctx, params.id)) } };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/runs/{id}/cancel");
