import { invitationJson, revokeInvitationEndpoint } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { revokeInvitation } from "@/lib/domain/invitations";

export const DELETE = handle(revokeInvitationEndpoint, async ({ ctx, params }) => {
  const invitation = await revokeInvitation(getDb(), ctx, { invitationId: params.id });
  return { status: 200 as const, body: { invitation: invitationJson(invitation) } };
});

export const { GET, POST, PUT, PATCH, OPTIONS } = methodsNotAllowed("/api/v1/invitations/{id}");
