import { deleteGitHostKeyEndpoint } from "@/lib/api/endpoints/git-access";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteGitHostKey } from "@/lib/domain/git-host-keys";

export const DELETE = handle(deleteGitHostKeyEndpoint, async ({ ctx, params }) => {
  await deleteGitHostKey(getDb(), ctx, params.id);
  return { status: 204 as const, body: undefined };
});

export const { GET, POST, PUT, PATCH, OPTIONS } = methodsNotAllowed("/api/v1/git-host-keys/{id}");
