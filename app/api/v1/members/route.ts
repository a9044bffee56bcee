import { listMembersEndpoint, memberJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { listMembers } from "@/lib/domain/members";

export const GET = handle(listMembersEndpoint, async ({ ctx, query }) => {
  const page = await listMembers(getDb(), ctx, query);
  return { status: 200 as const, body: { items: page.items.map(memberJson), nextCursor: page.nextCursor } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/members");
