"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { userAction } from "@/lib/actions";
import { acceptInvitation } from "@/lib/domain/invitations";

export const acceptInvitationAction = userAction(
  z.strictObject({ token: z.string().min(1).max(200) }),
  async (input, { db, user, meta }) => {
    // The domain checks the token, its status and that it was sent to this user's email, in one transaction.
    const { teamId } = await acceptInvitation(db, { userId: user.id, token: input.token, meta });
    redirect(`/teams/${teamId}`);
  },
);
