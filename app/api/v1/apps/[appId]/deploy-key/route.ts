import {
  createDeployKeyEndpoint,
  deleteDeployKeyEndpoint,
  deployKeyJson,
  getDeployKeyEndpoint,
} from "@/lib/api/endpoints/git-access";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createOrRotateDeployKey, deleteDeployKey, getDeployKey } from "@/lib/domain/deploy-keys";

export const GET = handle(getDeployKeyEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { deployKey: deployKeyJson(await getDeployKey(getDb(), ctx, params.appId)) } };
});

export const POST = handle(createDeployKeyEndpoint, async ({ ctx, params }) => {
  const { deployKey, rotated } = await createOrRotateDeployKey(getDb(), ctx, params.appId);
  return { status: rotated ? (200 as const) : (201 as const), body: { deployKey: deployKeyJson(deployKey) } };
});

export const DELETE = handle(deleteDeployKeyEndpoint, async ({ ctx, params }) => {
  await deleteDeployKey(getDb(), ctx, params.appId);
  return { status: 204 as const, body: undefined };
});

export const { PUT, PATCH, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/deploy-key");
