// A deployment's first release, after its build (deployment__release), and the clean-up when a release job gives up.
import type { Db } from "@/lib/db";
import { cancelOperation, claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { desiredCounts } from "@/lib/domain/processes";
import { enforceProcessQuota } from "@/lib/domain/quotas";
import { cancelled, failureSide, isCancelled, isFinalFailure, logSummary, userFailure } from "@/lib/engine/failure";
import { specFor } from "@/lib/engine/release/containers";
import {
  type AppRow,
  deploymentSay,
  loadApp,
  type ReleaseDeps,
  releaseCommandOf,
  releaseContainerName,
  step,
} from "@/lib/engine/release/context";
import { cleanupSafely, drainAndFinish } from "@/lib/engine/release/drain";
import { runReleaseCommand } from "@/lib/engine/release/release-command";
import { rollout } from "@/lib/engine/release/switch";
import { endDeployment, markReleased, startReleasing } from "@/lib/engine/state";
import { isAppError } from "@/lib/errors";
import type { Deployment, FailureSide } from "@/lib/generated/prisma/client";

// ---------------------------------------------------------------------------------------------------------------
// A deployment's first release, after its build

export type ReleaseInput = { deploymentId: string; operationId: string };

const CANCELLED_BEFORE_RELEASE = "The deployment was cancelled before its release started.";

export async function releaseDeployment(deps: ReleaseDeps, input: ReleaseInput): Promise<void> {
  const { db } = deps;
  const found = await db.deployment.findUnique({ where: { id: input.deploymentId } });
  if (!found) {
    await failOperation(db, input.operationId, "The deployment no longer exists.");
    return;
  }
  if (!(await claimOperation(db, input.operationId))) return;
  const app = await loadApp(db, found.appId);
  if (!app) {
    await failOperation(db, input.operationId, "The app no longer exists.");
    return;
  }
  const log = deps.log.child({
    appId: app.id,
    teamId: app.teamId,
    deploymentId: found.id,
    operationId: input.operationId,
  });
  const scoped: ReleaseDeps = { ...deps, log };
  const say = deploymentSay(deps.dataDir, found.id);
  const releaseContainer = releaseContainerName(app.id, found.number);
  const finish = async () => {
    await drainAndFinish(scoped, app.id, (tx) => succeedOperation(tx, input.operationId).then(() => undefined), [
      releaseContainer,
    ]);
    await say(`==> Deployment #${found.number} is live`);
    log.info("release finished");
  };

  if (found.status === "running") {
    // The switch committed before a crash: only the previous containers are left to remove.
    await finish();
    return;
  }
  if (found.status !== "built" && found.status !== "releasing") {
    const reason = found.error ?? `The deployment is ${found.status}.`;
    if (found.status === "cancelled") await cancelOperation(db, input.operationId, reason);
    else await failOperation(db, input.operationId, reason);
    return;
  }
  try {
    const newer = app.currentDeploymentId
      ? await db.deployment.findFirst({ where: { id: app.currentDeploymentId, number: { gt: found.number } } })
      : null;
    if (newer) {
      throw cancelled(`Deployment #${newer.number}, started later, was released first; this one was skipped.`);
    }
    // A cancel that came while the build was finishing: honoured while nothing of the release has started (once it
    // is releasing, the domain refuses a cancel as too late). startReleasing refuses it too, for a cancel racing this.
    if (found.status === "built" && found.cancelRequestedAt) throw cancelled(CANCELLED_BEFORE_RELEASE);
    if (app.status === "deleting") throw userFailure("The app is being deleted.");
    if (!(await startReleasing(db, found))) {
      const now = await db.deployment.findUnique({ where: { id: found.id } });
      if (now?.status === "built" && now.cancelRequestedAt) throw cancelled(CANCELLED_BEFORE_RELEASE);
      throw userFailure("The deployment changed while it was being released.");
    }
    if (found.status === "built") await say("==> Releasing");
    await step(scoped, "releasing");

    const spec = await specFor(scoped, app, found);
    await checkProcessQuota(scoped, app, spec.types);
    await step(scoped, "network");
    const command = releaseCommandOf(found, app);
    if (command) await runReleaseCommand(scoped, spec, command, say);
    await step(scoped, "release_command");

    await rollout(
      scoped,
      spec,
      desiredCounts(app, spec.types),
      {
        replace: true,
        onSwitch: async (tx) => {
          await markReleased(tx, found.id);
        },
      },
      say,
    );
    await finish();
  } catch (error) {
    if (!isFinalFailure(error)) throw error;
    await failDeployment(
      scoped,
      found,
      input.operationId,
      error.message,
      isCancelled(error) ? "cancelled" : "failed",
      failureSide(error),
    );
  }
}

/**
 * A release whose plan brings new process types (one container each unless scaled) must still fit the team's
 * process quota; the scale and settings requests check the rest. Refused before any container starts.
 */
async function checkProcessQuota(deps: ReleaseDeps, app: AppRow, types: string[]): Promise<void> {
  const total = Object.values(desiredCounts(app, types)).reduce((sum, count) => sum + count, 0);
  try {
    await deps.db.$transaction((tx) => enforceProcessQuota(tx, app.teamId, app.id, total));
  } catch (error) {
    if (isAppError(error) && error.code === "quota_exceeded") {
      throw userFailure(`${error.message} Scale a process type down or ask for a higher quota, then deploy again.`);
    }
    throw error;
  }
}

/** Marks a deployment failed after removing what its release brought up; the previous release is not touched. */
export async function failDeployment(
  deps: ReleaseDeps,
  deployment: Deployment,
  operationId: string,
  reason: string,
  status: "failed" | "cancelled" = "failed",
  side: FailureSide = "operator",
): Promise<void> {
  await deploymentSay(
    deps.dataDir,
    deployment.id,
  )(`==> ${status === "failed" ? "Failed" : "Skipped"}: ${logSummary(reason)}`).catch(() => undefined);
  await cleanupSafely(deps, deployment.appId, [releaseContainerName(deployment.appId, deployment.number)]);
  await markDeploymentFailed(deps.db, deployment.id, operationId, reason, status, side);
  deps.log.info({ reason: reason.split("\n")[0] }, "release failed");
}

/**
 * The records of a release that did not happen: the deployment, its app if this was its first try, the operation.
 * Touches no infrastructure (the tasks use it alone when the host has no container engine).
 */
export async function markDeploymentFailed(
  db: Db,
  deploymentId: string,
  operationId: string,
  reason: string,
  status: "failed" | "cancelled" = "failed",
  side: FailureSide = "operator",
): Promise<void> {
  await endDeployment(db, deploymentId, status, reason, new Date(), side);
  if (status === "cancelled") await cancelOperation(db, operationId, reason);
  else await failOperation(db, operationId, reason);
}

// ---------------------------------------------------------------------------------------------------------------
// Giving up (the job's last attempt failed)

/**
 * Leaves the app as safe as the infrastructure allows: whatever was starting is removed, replicas already out of
 * the route are marked stopped (the next release removes them), the deployment (if any) fails unless it is live.
 */
export async function giveUpRelease(
  deps: ReleaseDeps,
  input: { operationId: string; appId?: string; deploymentId?: string },
  reason: string,
): Promise<void> {
  const { db } = deps;
  const deployment = input.deploymentId ? await db.deployment.findUnique({ where: { id: input.deploymentId } }) : null;
  const appId = input.appId ?? deployment?.appId;
  if (appId) {
    await cleanupSafely(deps, appId, deployment ? [releaseContainerName(deployment.appId, deployment.number)] : []);
    await db.replica.updateMany({ where: { appId, status: "draining" }, data: { status: "stopped" } });
  }
  if (deployment && deployment.status !== "running") {
    await failDeployment(deps, deployment, input.operationId, reason);
    return;
  }
  await failOperation(db, input.operationId, reason);
}
