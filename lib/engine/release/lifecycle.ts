// start, stop, restart, rollback and scale of an app (app__lifecycle), with the same steps as a release.
import type { LifecycleAction } from "@/jobs/catalog";
import type { Tx } from "@/lib/db";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { desiredCounts, planProcessTypes } from "@/lib/domain/processes";
import { isFinalFailure, userFailure } from "@/lib/engine/failure";
import { specFor } from "@/lib/engine/release/containers";
import { type AppRow, loadApp, type ReleaseDeps, silent, step } from "@/lib/engine/release/context";
import { cleanupSafely, drainAndFinish } from "@/lib/engine/release/drain";
import { rollout } from "@/lib/engine/release/switch";
import { syncRouting } from "@/lib/engine/routing";
import { markAppStopped, markServingAgain } from "@/lib/engine/state";
import { CaddyError } from "@/lib/infra/caddy";

// ---------------------------------------------------------------------------------------------------------------
// Lifecycle: start, stop, restart, rollback, scale

export type LifecycleInput = {
  operationId: string;
  appId: string;
  action: LifecycleAction;
  /** The earlier deployment to roll back to. */
  deploymentId?: string | undefined;
};

export async function runLifecycle(deps: ReleaseDeps, input: LifecycleInput): Promise<void> {
  const { db } = deps;
  if (!(await claimOperation(db, input.operationId))) return;
  const app = await loadApp(db, input.appId);
  if (!app) {
    await failOperation(db, input.operationId, "The app no longer exists.");
    return;
  }
  if (app.status === "deleting") {
    await failOperation(db, input.operationId, "The app is being deleted.");
    return;
  }
  const log = deps.log.child({
    appId: app.id,
    teamId: app.teamId,
    operationId: input.operationId,
    action: input.action,
  });
  const scoped: ReleaseDeps = { ...deps, log };
  const finish = (tx: Tx) => succeedOperation(tx, input.operationId).then(() => undefined);
  try {
    if (input.action === "stop") await stopApp(scoped, app, finish);
    else if (input.action === "scale") await scaleApp(scoped, app, finish);
    else await rerelease(scoped, app, input, finish);
    log.info("lifecycle operation finished");
  } catch (error) {
    if (!isFinalFailure(error)) throw error;
    await cleanupSafely(scoped, app.id);
    await failOperation(db, input.operationId, error.message);
    log.info({ reason: error.message.split("\n")[0] }, "lifecycle operation failed");
  }
}

export async function stopApp(deps: ReleaseDeps, app: AppRow, finish: (tx: Tx) => Promise<void>): Promise<void> {
  try {
    await syncRouting(deps.db, deps.caddy, {
      config: deps.routing,
      log: deps.log,
      retry: deps.caddyRetry,
      sleep: deps.sleep,
      change: async (tx) => {
        await markAppStopped(tx, app.id);
        await tx.replica.updateMany({
          where: { appId: app.id, status: { in: ["starting", "healthy", "crashed"] } },
          data: { status: "draining" },
        });
      },
    });
  } catch (error) {
    if (error instanceof CaddyError) throw userFailure(`${error.userMessage} The app was not stopped.`);
    throw error;
  }
  await step(deps, "switch");
  await drainAndFinish(deps, app.id, finish);
}

/** restart, start and rollback: a full new set of containers of one deployment's image, then the switch. */
export async function rerelease(
  deps: ReleaseDeps,
  app: AppRow,
  input: LifecycleInput,
  finish: (tx: Tx) => Promise<void>,
): Promise<void> {
  const { db } = deps;
  const targetId = input.action === "rollback" ? input.deploymentId : app.currentDeploymentId;
  if (input.action === "restart" && (app.status !== "running" || !targetId)) {
    // Stopped in the meantime: the next start uses the current settings anyway.
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  if (!targetId) throw userFailure("This app has no release yet: deploy it first.");
  const deployment = await db.deployment.findFirst({ where: { id: targetId, appId: app.id } });
  if (!deployment?.imageRef || !["running", "superseded"].includes(deployment.status)) {
    throw userFailure("Only a deployment that was released successfully can be released again.");
  }
  const replicas = await db.replica.findMany({ where: { appId: app.id } });
  const switched =
    app.status === "running" &&
    app.currentDeploymentId === deployment.id &&
    !replicas.some((row) => row.status === "starting");
  // After a crash between the switch and the end of the drain: finish the drain.
  if (switched && replicas.some((row) => row.status === "draining")) {
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  // start and rollback converge: nothing to do when the app already runs that deployment at its scale.
  const healthy = replicas.filter((row) => row.status === "healthy" && row.deploymentId === deployment.id);
  const wanted = desiredCounts(app, planProcessTypes(deployment.plan));
  const converged = Object.entries(wanted).every(
    ([type, count]) => healthy.filter((row) => row.process === type).length === count,
  );
  if (input.action !== "restart" && switched && converged) {
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  if (!(await deps.podman.imageExists(deployment.imageRef))) {
    throw userFailure(
      `The image of deployment #${deployment.number} is no longer on this host. Deploy again to rebuild it.`,
    );
  }
  const spec = await specFor(deps, app, deployment);
  await step(deps, "network");
  await rollout(
    deps,
    spec,
    desiredCounts(app, spec.types),
    {
      replace: true,
      onSwitch: async (tx) => {
        await markServingAgain(tx, deployment.id);
      },
    },
    silent,
  );
  await drainAndFinish(deps, app.id, finish);
}

/** Converges the replicas of the current deployment to the desired count of each of its process types. */
export async function scaleApp(deps: ReleaseDeps, app: AppRow, finish: (tx: Tx) => Promise<void>): Promise<void> {
  const { db } = deps;
  const current = app.currentDeploymentId
    ? await db.deployment.findUnique({ where: { id: app.currentDeploymentId } })
    : null;
  if (app.status !== "running" || !current) {
    // Stored on the app (by the request); the next start or deployment uses it.
    await drainAndFinish(deps, app.id, finish);
    return;
  }
  const replicas = await db.replica.findMany({ where: { appId: app.id }, orderBy: { index: "asc" } });
  const wanted = desiredCounts(app, planProcessTypes(current.plan));
  const healthyOf = (type: string) =>
    replicas.filter((row) => row.status === "healthy" && row.deploymentId === current.id && row.process === type);
  const startingOf = (type: string) =>
    replicas.some((row) => row.status === "starting" && row.deploymentId === current.id && row.process === type);
  // Per type: what is missing is started (a retry adopts its "starting" rows), the newest surplus replicas go.
  const missing = Object.fromEntries(
    Object.entries(wanted).flatMap(([type, count]) => {
      const gap = count - healthyOf(type).length;
      return gap > 0 || (gap === 0 && startingOf(type)) ? [[type, Math.max(gap, 0)]] : [];
    }),
  );
  const surplus = Object.entries(wanted).flatMap(([type, count]) =>
    healthyOf(type)
      .slice(count)
      .map((row) => row.id),
  );
  if (Object.keys(missing).length > 0) {
    const spec = await specFor(deps, app, current);
    await step(deps, "network");
    await rollout(deps, spec, missing, { replace: false }, silent);
  }
  if (surplus.length > 0) {
    // The route loses them before they stop.
    try {
      await syncRouting(db, deps.caddy, {
        config: deps.routing,
        log: deps.log,
        retry: deps.caddyRetry,
        sleep: deps.sleep,
        change: async (tx) => {
          await tx.replica.updateMany({ where: { id: { in: surplus } }, data: { status: "draining" } });
        },
      });
    } catch (error) {
      if (error instanceof CaddyError) throw userFailure(`${error.userMessage} The app was not scaled down.`);
      throw error;
    }
    await step(deps, "switch");
  }
  await drainAndFinish(deps, app.id, finish);
}
