"use server";

import { refresh } from "next/cache";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import { createInvitation, resendInvitation, revokeInvitation } from "@/lib/domain/invitations";
import { assignableRole, emailInput } from "@/lib/domain/schemas";

/** The accept link comes back only when no mail is configured, for the inviter to copy once. */
type InvitationLink = { link: string | null };

const invitationInput = z.strictObject({ teamId: z.uuid(), invitationId: z.uuid() });

const createInvitationInput = z.strictObject({ teamId: z.uuid(), email: emailInput, role: assignableRole });

export const createInvitationAction = teamAction<typeof createInvitationInput, InvitationLink>(
  createInvitationInput,
  async (input, { db, ctx }) => {
    const result = await createInvitation(db, ctx, { email: input.email, role: input.role });
    refresh();
    return {
      status: "success",
      message: result.emailed
        ? `Invitation emailed to ${result.invitation.email}.`
        : `Invitation created for ${result.invitation.email}.`,
      data: { link: result.link },
    };
  },
);

export const revokeInvitationAction = teamAction(invitationInput, async (input, { db, ctx }) => {
  const invitation = await revokeInvitation(db, ctx, { invitationId: input.invitationId });
  refresh();
  return { status: "success", message: `The invitation for ${invitation.email} was revoked.` };
});

export const resendInvitationAction = teamAction<typeof invitationInput, InvitationLink>(
  invitationInput,
  async (input, { db, ctx }) => {
    const result = await resendInvitation(db, ctx, { invitationId: input.invitationId });
    refresh();
    return {
      status: "success",
      message: result.emailed
        ? `Sent again to ${result.invitation.email}; the earlier link no longer works.`
        : `New link for ${result.invitation.email}; the earlier link no longer works.`,
      data: { link: result.link },
    };
  },
);
