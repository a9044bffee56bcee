import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { z } from "zod";
import { appPage, appTitle } from "@/app/(portal)/teams/[teamId]/apps/[appId]/app-page";
import {
  cancelDeploymentAction,
  pollDeployment,
  redeployDeploymentAction,
} from "@/app/(portal)/teams/[teamId]/apps/[appId]/deployments/[deploymentId]/actions";
import { DeploymentLive } from "@/components/apps/deployment-live";
import { type DeploymentSnapshot, deploymentSnapshot } from "@/components/apps/deployment-snapshot";
import { TextLink } from "@/components/ui";
import { roleAllows } from "@/lib/auth/permissions";
import { getDb } from "@/lib/db";
import { getDeployment, readDeploymentLog } from "@/lib/domain/deployments";
import { isAppError } from "@/lib/errors";

type Params = Promise<{ teamId: string; appId: string; deploymentId: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamId, appId } = await params;
  const name = await appTitle(teamId, appId);
  return name ? { title: `Deployment · ${name}` } : {};
}

export default async function DeploymentPage({ params }: { params: Params }) {
  const { teamId, appId, deploymentId } = await params;
  const appPath = `/teams/${teamId}/apps/${appId}`;
  const { ctx, app } = await appPage(teamId, appId, `${appPath}/deployments/${deploymentId}`);
  if (!z.uuid().safeParse(deploymentId).success) notFound();

  const db = getDb();
  let deployment: DeploymentSnapshot;
  try {
    deployment = deploymentSnapshot(await getDeployment(db, ctx, deploymentId));
  } catch (error) {
    if (isAppError(error) && error.code === "not_found") notFound();
    throw error;
  }
  // Another app's deployment under this app's address: as absent as another team's.
  if (deployment.appId !== app.id) notFound();
  const log = await readDeploymentLog(db, ctx, deploymentId, 0);

  return (
    <>
      <p className="text-sm">
        <TextLink href={`${appPath}/deployments`}>← All deployments of {app.name}</TextLink>
      </p>
      <DeploymentLive
        teamId={ctx.teamId}
        initial={deployment}
        initialLog={log}
        poll={pollDeployment}
        cancelAction={roleAllows(ctx.role, "deployments:create") ? cancelDeploymentAction : null}
        redeployAction={
          roleAllows(ctx.role, "deployments:create") && app.status !== "deleting" ? redeployDeploymentAction : null
        }
        basePath={appPath}
      />
    </>
  );
}
