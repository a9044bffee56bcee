import { redirect } from "next/navigation";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { listTeamsForUser } from "@/lib/domain/teams";

// /teams has no page of its own: the first team (oldest membership), or creating one.
export default async function TeamsPage() {
  const user = await requireUser("/teams");
  const [first] = await listTeamsForUser(getDb(), user.id);
  redirect(first ? `/teams/${first.id}` : "/teams/new");
}
