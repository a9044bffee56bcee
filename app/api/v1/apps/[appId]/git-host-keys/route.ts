import { gitHostKeyJson, listGitHostKeysEndpoint } from "@/lib/api/endpoints/git-access";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { listGitHostKeys } from "@/lib/domain/git-host-keys";

export const GET = handle(listGitHostKeysEndpoint, async ({ ctx, params }) => {
  const keys = await listGitHostKeys(getDb(), ctx, params.appId);
  return { status: 200 as const, body: { items: keys.map(gitHostKeyJson) } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/git-host-keys");
