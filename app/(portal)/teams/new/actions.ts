"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { userAction } from "@/lib/actions";
import { teamName } from "@/lib/domain/schemas";
import { createTeam } from "@/lib/domain/teams";

export const createTeamAction = userAction(z.strictObject({ name: teamName }), async (input, { db, user, meta }) => {
  const team = await createTeam(db, { userId: user.id, name: input.name, meta });
  redirect(`/teams/${team.id}`);
});
