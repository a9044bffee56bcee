import { deploymentJson, redeployDeploymentEndpoint } from "@/lib/api/endpoints/deployments";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { redeployDeployment } from "@/lib/domain/deployments";

export const POST = handle(redeployDeploymentEndpoint, async ({ ctx, params }) => {
  const { deployment, operation } = await redeployDeployment(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { deployment: deploymentJson(deployment), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/deployments/{id}/redeploy");
