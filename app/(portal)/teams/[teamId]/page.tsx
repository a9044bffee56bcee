import Link from "next/link";
import { type AppRow, listAppsWithLatestDeployment } from "@/app/(portal)/teams/[teamId]/apps/apps-list";
import { teamPage } from "@/app/(portal)/teams/[teamId]/team-page";
import { AppsTable } from "@/components/apps/apps-table";
import { buttonClass, Card, EmptyState, Notice, PageHeader, TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import type { Page } from "@/lib/domain/pagination";
import { isAppError } from "@/lib/errors";

const OVERVIEW_APPS = 10;

export default async function TeamOverviewPage({ params }: { params: Promise<{ teamId: string }> }) {
  const { teamId } = await params;
  const { team, ctx } = await teamPage(teamId, `/teams/${teamId}`);
  const canDeploy = roleAllows(ctx.role, "apps:write");
  const appsPath = `/teams/${team.id}/apps`;

  let apps: Page<AppRow> | null = null;
  let problem: string | null = null;
  try {
    apps = await listAppsWithLatestDeployment(getDb(), ctx, { limit: OVERVIEW_APPS });
  } catch (error) {
    if (!isAppError(error)) throw error;
    problem = error.message;
  }

  return (
    <>
      <PageHeader
        title="Overview"
        description={`Apps of ${team.name} and their deployments.`}
        actions={
          canDeploy ? (
            <Link href={`${appsPath}/new`} data-testid="deploy-button" className={buttonClass("primary")}>
              New app
            </Link>
          ) : null
        }
      />
      {problem ? <Notice tone="error">{problem}</Notice> : null}
      {apps ? (
        <Card title="Apps">
          {apps.items.length === 0 ? (
            <EmptyState title="No apps yet">
              {canDeploy ? (
                <div className="space-y-4">
                  <p>Apps you deploy to this team will appear here.</p>
                  <Link href={`${appsPath}/new`} className={buttonClass("secondary")}>
                    Create your first app
                  </Link>
                </div>
              ) : (
                "Apps deployed to this team will appear here. Your role can view them but not deploy."
              )}
            </EmptyState>
          ) : (
            <div className="space-y-4">
              <AppsTable teamId={team.id} rows={apps.items} />
              {apps.nextCursor ? (
                <p className="text-sm">
                  <TextLink href={appsPath}>See all apps</TextLink>
                </p>
              ) : null}
            </div>
          )}
        </Card>
      ) : null}
    </>
  );
}
