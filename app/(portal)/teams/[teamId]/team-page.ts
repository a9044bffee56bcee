// What every team page starts with: the signed-in user (or a redirect to sign in and back), their membership in the
// team (or Next's 404: another team's ID, a team being deleted and a malformed ID all look the same) and the team.
// Memoised per request with React's cache, so the layout and the page share one lookup.
import { notFound } from "next/navigation";
import { cache } from "react";
import { z } from "zod";
import { currentRequestMeta, currentUser, requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { type Ctx, userContext } from "@/lib/domain/context";
import { getTeam, type TeamView } from "@/lib/domain/teams";
import type { PublicUser } from "@/lib/domain/users";
import { isAppError } from "@/lib/errors";

export const signedInUser = cache(currentUser);

export const teamMembership = cache(
  async (userId: string, teamId: string): Promise<{ ctx: Ctx; team: TeamView } | null> => {
    if (!z.uuid().safeParse(teamId).success) return null;
    try {
      const ctx = await userContext(getDb(), userId, teamId, await currentRequestMeta());
      return { ctx, team: await getTeam(getDb(), ctx) };
    } catch (error) {
      if (isAppError(error) && error.code === "not_found") return null;
      throw error;
    }
  },
);

/** For a page under /teams/[teamId]: `path` is where to come back to after signing in. */
export async function teamPage(teamId: string, path: string): Promise<{ user: PublicUser; ctx: Ctx; team: TeamView }> {
  const user = (await signedInUser()) ?? (await requireUser(path));
  const membership = await teamMembership(user.id, teamId);
  if (!membership) notFound();
  return { user, ...membership };
}
