"use server";

import { refresh } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/actions";
import { teamName } from "@/lib/domain/schemas";
import { deleteTeam, renameTeam } from "@/lib/domain/teams";

export const renameTeamAction = teamAction(
  z.strictObject({ teamId: z.uuid(), name: teamName }),
  async (input, { db, ctx }) => {
    const team = await renameTeam(db, ctx, { name: input.name });
    refresh();
    return { status: "success", message: `The team is now called “${team.name}”.` };
  },
);

export const deleteTeamAction = teamAction(
  // Compared exactly with the current name by the domain, so no trimming here.
  z.strictObject({ teamId: z.uuid(), confirmName: z.string().max(200) }),
  async (input, { db, ctx }) => {
    await deleteTeam(db, ctx, { confirmName: input.confirmName });
    redirect("/teams");
  },
);
