import { getTeamEndpoint, teamJson } from "@/lib/api/endpoints/identity";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getTeam } from "@/lib/domain/teams";

export const GET = handle(getTeamEndpoint, async ({ ctx }) => {
  const team = await getTeam(getDb(), ctx);
  return { status: 200 as const, body: { team: teamJson(team) } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/team");
