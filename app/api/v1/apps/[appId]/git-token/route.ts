import { deleteGitTokenEndpoint, gitTokenJson, setGitTokenEndpoint } from "@/lib/api/endpoints/git-access";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteGitToken, setGitToken } from "@/lib/domain/git-tokens";

export const POST = handle(setGitTokenEndpoint, async ({ ctx, params, body }) => {
  return {
    status: 200 as const,
    body: { gitToken: gitTokenJson(await setGitToken(getDb(), ctx, params.appId, body)) },
  };
});

export const DELETE = handle(deleteGitTokenEndpoint, async ({ ctx, params }) => {
  await deleteGitToken(getDb(), ctx, params.appId);
  return { status: 204 as const, body: undefined };
});

export const { GET, PUT, PATCH, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/git-token");
