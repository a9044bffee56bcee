// What every page under /teams/[teamId]/apps/[appId] starts with: the team page's checks (signed in, member) and the
// app, looked up through the domain so it is scoped to the team. Another team's app, a deleted app and a malformed
// ID all answer Next's 404. Memoised per request, so the app layout, the page and its metadata share one lookup.
import { notFound } from "next/navigation";
import { cache } from "react";
import { z } from "zod";
import { signedInUser, teamMembership, teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { getDb } from "@/lib/db";
import { type AppView, getApp } from "@/lib/domain/apps";
import type { Ctx } from "@/lib/domain/context";
import type { TeamView } from "@/lib/domain/teams";
import type { PublicUser } from "@/lib/domain/users";
import { isAppError } from "@/lib/errors";

export const appOfTeam = cache(async (userId: string, teamId: string, appId: string): Promise<AppView | null> => {
  if (!z.uuid().safeParse(appId).success) return null;
  const membership = await teamMembership(userId, teamId);
  if (!membership) return null;
  try {
    return await getApp(getDb(), membership.ctx, appId);
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") return null;
    throw error;
  }
});

/** For a page under /teams/[teamId]/apps/[appId]: `path` is where to come back to after signing in. */
export async function appPage(
  teamId: string,
  appId: string,
  path: string,
): Promise<{ user: PublicUser; ctx: Ctx; team: TeamView; app: AppView }> {
  const { user, ctx, team } = await teamPage(teamId, path);
  const app = await appOfTeam(user.id, teamId, appId);
  if (!app) notFound();
  return { user, ctx, team, app };
}

/** For generateMetadata: the app's name when the visitor may see it, nothing otherwise (the page decides the rest). */
export async function appTitle(teamId: string, appId: string): Promise<string | null> {
  const user = await signedInUser();
  if (!user) return null;
  return (await appOfTeam(user.id, teamId, appId))?.name ?? null;
}
