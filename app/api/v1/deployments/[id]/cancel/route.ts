import { cancelDeploymentEndpoint, deploymentJson } from "@/lib/api/endpoints/deployments";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { cancelDeployment } from "@/lib/domain/deployments";

export const POST = handle(cancelDeploymentEndpoint, async ({ ctx, params }) => {
  return {
    status: 200 as const,
    body: { deployment: deploymentJson(await cancelDeployment(getDb(), ctx, params.id)) },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/deployments/{id}/cancel");
