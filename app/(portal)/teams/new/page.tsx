import type { Metadata } from "next";
import { signOutAction, signOutEverywhereAction } from "@/app/(portal)/actions";
import { createTeamAction } from "@/app/(portal)/teams/new/actions";
import { PortalHeader } from "@/components/portal-header";
import { CreateTeamForm } from "@/components/teams/create-team-form";
import { Card, PageHeader } from "@/components/ui";
import { requireUser } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { listTeamsForUser } from "@/lib/domain/teams";

export const metadata: Metadata = { title: "Create a team" };

export default async function NewTeamPage() {
  const user = await requireUser("/teams/new");
  const teams = await listTeamsForUser(getDb(), user.id);
  return (
    <div className="min-h-screen bg-zinc-50 dark:bg-zinc-950">
      <PortalHeader user={user} teams={teams} signOut={signOutAction} signOutEverywhere={signOutEverywhereAction} />
      <main id="main" className="mx-auto max-w-xl space-y-6 px-4 py-10 sm:px-6">
        <PageHeader
          title={teams.length ? "Create a team" : "Create your first team"}
          description="A team owns apps, databases and API tokens. Invite people once it exists."
        />
        <Card>
          <CreateTeamForm action={createTeamAction} />
        </Card>
      </main>
    </div>
  );
}
