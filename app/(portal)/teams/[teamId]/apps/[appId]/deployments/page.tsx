import type { Metadata } from "next";
import { rollbackAppAction } from "@/app/(portal)/teams/[teamId]/apps/[appId]/actions";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import { redeployDeploymentAction } from "@/app/(portal)/teams/[teamId]/apps/[appId]/deployments/[deploymentId]/actions";
import {
  type DeploymentItem,
  loadDeployments,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/deployments/deployments-data";
import { firstParam, type SearchParams } from "@/app/search-params";
import { DeploymentsTable } from "@/components/apps/deployments-table";
import { Pager } from "@/components/pager";
import { Card, EmptyState, Notice } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import type { Page } from "@/lib/domain/pagination";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string }>;

const PAGE_SIZE = 25;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Deployments · ${name}` } : {};
}

// Every deployment of the app, newest first, a page at a time: status and why, source and commit, what started it
// and who, how long it took, with Retry / Redeploy and Roll back where they apply (#18).
export default async function DeploymentsPage({
  params,
  searchParams,
}: {
  params: Params;
  searchParams: SearchParams;
}) {
  const { teamId, appId } = await params;
  const cursor = firstParam((await searchParams).cursor);
  const appPath = `/teams/${teamId}/apps/${appId}`;
  const path = `${appPath}/deployments`;
  const { ctx, app } = await appPage(teamId, appId, path);
  const canDeploy = roleAllows(ctx.role, "deployments:create") && app.status !== "deleting";
  const canOperate = roleAllows(ctx.role, "apps:write") && app.status !== "deleting";

  let deployments: Page<DeploymentItem>;
  try {
    deployments = await loadDeployments(getDb(), ctx, app.id, { limit: PAGE_SIZE, cursor });
  } catch (error) {
    if (!isAppError(error)) throw error;
    return <Notice tone="error">{error.message}</Notice>;
  }

  return (
    <>
      <Card title="Deployments" description="Each build of the app's source, newest first; open one for its log.">
        {deployments.items.length === 0 ? (
          <EmptyState title={cursor ? "No more deployments" : "No deployments yet"}>
            Deployments of this app will appear here.
          </EmptyState>
        ) : (
          <DeploymentsTable
            basePath={appPath}
            deployments={deployments.items}
            details
            rollback={
              canOperate
                ? {
                    action: rollbackAppAction,
                    teamId: ctx.teamId,
                    appId: app.id,
                    currentDeploymentId: app.currentDeploymentId,
                  }
                : null
            }
            redeploy={canDeploy ? { action: redeployDeploymentAction, teamId: ctx.teamId } : null}
          />
        )}
      </Card>
      <Pager path={path} cursor={cursor} nextCursor={deployments.nextCursor} />
    </>
  );
}
