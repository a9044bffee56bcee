"use server";

import { refresh, revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { type DeploymentPoll, deploymentSnapshot } from "@/components/apps/deployment-snapshot";
import { type ActionState, teamAction, teamCall } from "@/lib/actions";
import { cancelDeployment, getDeployment, readDeploymentLog, redeployDeployment } from "@/lib/domain/deployments";

const deploymentInput = z.strictObject({ teamId: z.uuid(), deploymentId: z.uuid() });

export const cancelDeploymentAction = teamAction(deploymentInput, async (input, { db, ctx }) => {
  await cancelDeployment(db, ctx, input.deploymentId);
  refresh();
  return { status: "success", message: "Cancelling: the build stops within a few seconds." };
});

/**
 * Redeploy (any finished deployment) and Retry (a failed one): the same domain function as POST
 * /api/v1/deployments/{id}/redeploy, the same commit (or upload) again; then to the new deployment's page.
 */
export const redeployDeploymentAction = teamAction(deploymentInput, async (input, { db, ctx }) => {
  const { deployment } = await redeployDeployment(db, ctx, input.deploymentId);
  const appPath = `/teams/${ctx.teamId}/apps/${deployment.appId}`;
  revalidatePath(appPath, "layout");
  redirect(`${appPath}/deployments/${deployment.id}`);
});

const pollInput = deploymentInput.extend({ offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });

const poll = teamCall<typeof pollInput, DeploymentPoll>(pollInput, async (input, { db, ctx }) => {
  // The row first, then the log: the log is only complete once the row is finished, so when both say so, the
  // client has everything and stops polling.
  const deployment = deploymentSnapshot(await getDeployment(db, ctx, input.deploymentId));
  const log = await readDeploymentLog(db, ctx, input.deploymentId, input.offset);
  return { status: "success", data: { deployment, log } };
});

/**
 * The deployment page's live view calls this every ~1.5 s: status, phases, plan and the log from `offset` on.
 * A server action rather than a route handler, because app/api is the token API; it goes through teamCall (the typed
 * entry of teamAction), so membership and role are checked on each call.
 */
export async function pollDeployment(
  teamId: string,
  deploymentId: string,
  offset: number,
): Promise<ActionState<DeploymentPoll>> {
  return await poll({ teamId, deploymentId, offset });
}
