"use server";

import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import { changeMemberRole, removeMember, transferOwnership } from "@/lib/domain/members";
import { assignableRole } from "@/lib/domain/schemas";

// Every action re-checks on the server: teamAction checks membership, the domain function checks the role.
const memberInput = z.strictObject({ teamId: z.uuid(), membershipId: z.uuid() });

export const changeMemberRoleAction = teamAction(
  memberInput.extend({ role: assignableRole }),
  async (input, { db, ctx }) => {
    const member = await changeMemberRole(db, ctx, { membershipId: input.membershipId, role: input.role });
    refresh();
    return { status: "success", message: `${member.user.email} is now ${member.role}.` };
  },
);

export const removeMemberAction = teamAction(memberInput, async (input, { db, ctx }) => {
  await removeMember(db, ctx, { membershipId: input.membershipId });
  refresh();
  return { status: "success", message: "Removed from the team." };
});

/** Removing oneself: the team is no longer reachable afterwards, so go back to the team list. */
export const leaveTeamAction = teamAction(memberInput, async (input, { db, ctx }) => {
  await removeMember(db, ctx, { membershipId: input.membershipId });
  redirect("/teams");
});

export const transferOwnershipAction = teamAction(memberInput, async (input, { db, ctx }) => {
  await transferOwnership(db, ctx, { membershipId: input.membershipId });
  refresh();
  return { status: "success", message: "Ownership transferred. You are now an admin of this team." };
});
