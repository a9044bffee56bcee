import { confirmGitHostKeyEndpoint, gitHostKeyJson } from "@/lib/api/endpoints/git-access";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { confirmGitHostKey } from "@/lib/domain/git-host-keys";

export const POST = handle(confirmGitHostKeyEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { hostKey: gitHostKeyJson(await confirmGitHostKey(getDb(), ctx, params.id)) } };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/git-host-keys/{id}/confirm");
