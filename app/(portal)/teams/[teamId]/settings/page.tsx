import type { Metadata } from "next";
import { deleteTeamAction, renameTeamAction } from "@/app/(portal)/teams/[teamId]/settings/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { DeleteTeamForm, RenameTeamForm } from "@/components/teams/settings-forms";
import { Card, Notice, PageHeader } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";

export const metadata: Metadata = { title: "Settings" };

export default async function TeamSettingsPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { team, ctx } = await teamPage(teamId, `/teams/${teamId}/settings`);
  const canRename = roleAllows(ctx.role, "team:update");
  const canDelete = roleAllows(ctx.role, "team:delete");

  return (
    <>
      <PageHeader title="Settings" />
      {canRename ? (
        <Card title="Team name" description="Shown across the portal. App addresses keep the slug chosen at creation.">
          <RenameTeamForm action={renameTeamAction} teamId={team.id} name={team.name} />
        </Card>
      ) : (
        <Notice title="Not available for your role">Only admins and owners can change the team's settings.</Notice>
      )}
      {canDelete ? (
        <section className="rounded-xl border border-red-200 bg-white p-5 sm:p-6 dark:border-red-900 dark:bg-zinc-950">
          <h2 className="font-semibold text-base text-red-700 dark:text-red-400">Delete this team</h2>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Removes the team with its apps, databases, members, invitations and API tokens. This cannot be undone.
          </p>
          <div className="mt-4">
            <DeleteTeamForm action={deleteTeamAction} teamId={team.id} name={team.name} />
          </div>
        </section>
      ) : canRename ? (
        <p className="text-sm text-zinc-500">Only an owner can delete the team.</p>
      ) : null}
    </>
  );
}
