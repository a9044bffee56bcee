import { getRunEndpoint, runJson } from "@/lib/api/endpoints/runs";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getRun } from "@/lib/domain/runs";

export const GET = handle(getRunEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { run: runJson(await getRun(getDb(), ctx, params.id)) } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/runs/{id}");
