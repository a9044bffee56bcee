// Removes an app: its route, its containers and images on this host, its build and runtime logs, then its rows (env
// vars, deployments, replicas). Runs in the app's queue (jobs/queues.ts), so no release of the app is
// starting containers meanwhile.
import fs from "node:fs/promises";
import type { Logger } from "pino";
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { appLogCursorPath, appLogPath, buildWorkspace, deploymentLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { routingConfigFromEnv, syncRouting } from "@/lib/engine/routing";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { CaddyError } from "@/lib/infra/caddy";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

/** The app is "deleting", which the routing config leaves out: a sync removes its route. */
async function removeRoute(db: Db, log: Logger): Promise<void> {
  try {
    await syncRouting(db, getInfra().caddy(), { config: routingConfigFromEnv(), log });
  } catch (error) {
    if (error instanceof CaddyError) throw new AppError("unavailable", error.userMessage, { cause: error });
    throw error;
  }
}

export const appDelete = defineTask(catalog.app__delete, {
  async run({ operationId, appId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const app = await db.app.findUnique({
      where: { id: appId },
      include: { deployments: { select: { id: true, imageRef: true } } },
    });
    if (!app) {
      // Deleted by an earlier attempt, which may have died before the route went: sync again (a no-op otherwise).
      await removeRoute(db, log);
      await succeedOperation(db, operationId);
      return;
    }
    const appLog = log.child({ appId, teamId: app.teamId, operationId });
    // Only an app that was ever released has a route. Traffic stops before its containers do.
    const routed = app.currentDeploymentId !== null;
    if (routed) await removeRoute(db, appLog);
    let podman: ReturnType<ReturnType<typeof getInfra>["podman"]> | null = null;
    try {
      podman = getInfra().podman();
    } catch (error) {
      // No container runtime on this host: nothing of this app can be running or stored here.
      if (!(error instanceof MissingExecutableError)) throw error;
      appLog.warn("podman is not installed; skipping container and image clean-up");
    }
    if (podman) {
      for (const container of await podman.listContainers({ app: appId })) {
        await podman.remove(container.name);
        appLog.info({ container: container.name }, "container removed");
      }
      for (const deployment of app.deployments) {
        if (!deployment.imageRef) continue;
        await podman.removeImage(deployment.imageRef);
        appLog.info({ image: deployment.imageRef }, "image removed");
      }
    }
    const dataDir = getEnv().dataDir;
    for (const deployment of app.deployments) {
      await fs.rm(deploymentLogPath(dataDir, deployment.id), { force: true });
      await fs.rm(buildWorkspace(dataDir, deployment.id), { recursive: true, force: true });
    }
    await fs.rm(appLogPath(dataDir, appId), { force: true });
    await fs.rm(appLogCursorPath(dataDir, appId), { force: true });
    await db.app.deleteMany({ where: { id: appId, status: "deleting" } });
    if (routed) await removeRoute(db, appLog);
    await succeedOperation(db, operationId);
    appLog.info("app deleted");
  },
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
