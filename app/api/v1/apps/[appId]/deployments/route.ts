import { createDeploymentEndpoint, deploymentJson, listDeploymentsEndpoint } from "@/lib/api/endpoints/deployments";
import { operationJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createDeployment, listDeployments } from "@/lib/domain/deployments";

export const GET = handle(listDeploymentsEndpoint, async ({ ctx, params, query }) => {
  const page = await listDeployments(getDb(), ctx, params.appId, query);
  return { status: 200 as const, body: { items: page.items.map(deploymentJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createDeploymentEndpoint, async ({ ctx, params, body }) => {
  const { deployment, operation } = await createDeployment(getDb(), ctx, params.appId, body.source);
  return {
    status: 202 as const,
    body: { deployment: deploymentJson(deployment), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/deployments");
