import type { Metadata } from "next";
import { createAppAction } from "@/app/(portal)/teams/[teamId]/apps/new/actions";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { CreateAppForm } from "@/components/apps/create-app-form";
import { Card, Notice, PageHeader, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";

export const metadata: Metadata = { title: "New app" };

export default async function NewAppPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { ctx } = await teamPage(teamId, `/teams/${teamId}/apps/new`);

  return (
    <>
      <PageHeader
        title="New app"
        description="An app is a name and an address; its code arrives with each deployment, from git or an upload."
      />
      {roleAllows(ctx.role, "apps:write") ? (
        <Card>
          <CreateAppForm action={createAppAction} teamId={ctx.teamId} />
        </Card>
      ) : (
        <Notice title="Not available for your role">
          Viewers can see apps but not create them. <TextLink href={`/teams/${ctx.teamId}/apps`}>Back to apps</TextLink>
        </Notice>
      )}
    </>
  );
}
