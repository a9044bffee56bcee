import { envJson, getEnvEndpoint, putEnvEndpoint } from "@/lib/api/endpoints/env";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { listEnvVars, setEnvVars } from "@/lib/domain/env-vars";

export const GET = handle(getEnvEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: envJson(await listEnvVars(getDb(), ctx, params.appId)) };
});

export const PUT = handle(putEnvEndpoint, async ({ ctx, params, body }) => {
  const variables = await setEnvVars(getDb(), ctx, params.appId, body.env, { secret: body.secret });
  return { status: 200 as const, body: envJson(variables) };
});

export const { POST, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/env");
