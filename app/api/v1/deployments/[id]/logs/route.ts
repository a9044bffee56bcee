import { deploymentLogsEndpoint } from "@/lib/api/endpoints/deployments";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { readDeploymentLog } from "@/lib/domain/deployments";

export const GET = handle(deploymentLogsEndpoint, async ({ ctx, params, query }) => {
  return { status: 200 as const, body: await readDeploymentLog(getDb(), ctx, params.id, query.offset) };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/deployments/{id}/logs");
