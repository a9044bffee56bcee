import { deploymentJson, getDeploymentEndpoint } from "@/lib/api/endpoints/deployments";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getDeployment } from "@/lib/domain/deployments";

export const GET = handle(getDeploymentEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { deployment: deploymentJson(await getDeployment(getDb(), ctx, params.id)) } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/deployments/{id}");
