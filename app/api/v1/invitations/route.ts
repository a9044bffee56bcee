import { createInvitationEndpoint, invitationJson, listInvitationsEndpoint } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createInvitation, listInvitations } from "@/lib/domain/invitations";

export const GET = handle(listInvitationsEndpoint, async ({ ctx, query }) => {
  const page = await listInvitations(getDb(), ctx, query);
  return { status: 200 as const, body: { items: page.items.map(invitationJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createInvitationEndpoint, async ({ ctx, body }) => {
  const result = await createInvitation(getDb(), ctx, body);
  return { status: 201 as const, body: { invitation: invitationJson(result.invitation), link: result.link } };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/invitations");
