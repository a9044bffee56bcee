import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { buttonClass, Card, EmptyState, PageHeader } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";

export default async function TeamOverviewPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { team, ctx } = await teamPage(teamId, `/teams/${teamId}`);
  const canDeploy = roleAllows(ctx.role, "apps:write");

  return (
    <>
      <PageHeader
        title="Overview"
        description={`Apps of ${team.name} and their deployments.`}
        actions={
          canDeploy ? (
            // Deploying arrives with apps; the button marks where it will live and who will see it.
            <button
              type="button"
              data-testid="deploy-button"
              disabled
              title="Deploying apps is coming soon"
              className={buttonClass("primary")}
            >
              Deploy
            </button>
          ) : null
        }
      />
      <Card>
        <EmptyState title="No apps yet">
          {canDeploy
            ? "Apps you deploy to this team will appear here."
            : "Apps deployed to this team will appear here. Your role can view them but not deploy."}
        </EmptyState>
      </Card>
    </>
  );
}
