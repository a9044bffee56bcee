// Removes an app (app__delete): its route, its containers and images on this host, its build, runtime and run logs,
// then its rows (env vars, deployments, replicas). Runs in the app's queue (jobs/queues.ts), so no release of the app
// is starting containers meanwhile. Idempotent: every step is a no-op the second time, and the rows go last.
import fs from "node:fs/promises";
import type { Logger } from "pino";
import { appLogCursorPath, appLogPath, buildWorkspace, deploymentLogPath, runLogPath } from "@/lib/data-paths";
import type { Db } from "@/lib/db";
import { claimOperation, succeedOperation } from "@/lib/domain/operations";
import { type RoutingConfig, routingConfigFromEnv, syncRouting } from "@/lib/engine/routing";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { type CaddyClient, CaddyError } from "@/lib/infra/caddy";
import type { Podman } from "@/lib/infra/podman";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

export type AppDeleteDeps = {
  db: Db;
  log: Logger;
  caddy: () => CaddyClient;
  /** Null on a host without a container engine: nothing of the app can be running or stored there. */
  podman: () => Podman | null;
  routing: RoutingConfig;
  dataDir: string;
};

export function appDeleteDepsFromEnv(base: { db: Db; log: Logger }): AppDeleteDeps {
  const infra = getInfra();
  return {
    ...base,
    caddy: () => infra.caddy(),
    podman: () => {
      try {
        return infra.podman();
      } catch (error) {
        if (error instanceof MissingExecutableError) return null;
        throw error;
      }
    },
    routing: routingConfigFromEnv(),
    dataDir: getEnv().dataDir,
  };
}

/** The app is "deleting", which the routing config leaves out: a sync removes its route. */
async function removeRoute(deps: AppDeleteDeps, log: Logger): Promise<void> {
  try {
    await syncRouting(deps.db, deps.caddy(), { config: deps.routing, log });
  } catch (error) {
    if (error instanceof CaddyError) {
      throw new AppError("unavailable", error.userMessage, { cause: error, retryable: true });
    }
    throw error;
  }
}

export async function deleteApp(deps: AppDeleteDeps, input: { operationId: string; appId: string }): Promise<void> {
  const { db } = deps;
  const { operationId, appId } = input;
  if (!(await claimOperation(db, operationId))) return;
  const app = await db.app.findUnique({
    where: { id: appId },
    include: { deployments: { select: { id: true, imageRef: true } }, runs: { select: { id: true } } },
  });
  if (!app) {
    // Deleted by an earlier attempt, which may have died before the route went: sync again (a no-op otherwise).
    await removeRoute(deps, deps.log);
    await succeedOperation(db, operationId);
    return;
  }
  const log = deps.log.child({ appId, teamId: app.teamId, operationId });
  // Only an app that was ever released has a route. Traffic stops before its containers do.
  const routed = app.currentDeploymentId !== null;
  if (routed) await removeRoute(deps, log);
  const podman = deps.podman();
  if (podman) {
    for (const container of await podman.listContainers({ app: appId })) {
      await podman.remove(container.name);
      log.info({ container: container.name }, "container removed");
    }
    for (const deployment of app.deployments) {
      if (!deployment.imageRef) continue;
      await podman.removeImage(deployment.imageRef);
      log.info({ image: deployment.imageRef }, "image removed");
    }
  } else {
    log.warn("podman is not installed; skipping container and image clean-up");
  }
  for (const deployment of app.deployments) {
    await fs.rm(deploymentLogPath(deps.dataDir, deployment.id), { force: true });
    await fs.rm(buildWorkspace(deps.dataDir, deployment.id), { recursive: true, force: true });
  }
  for (const run of app.runs) await fs.rm(runLogPath(deps.dataDir, run.id), { force: true });
  await fs.rm(appLogPath(deps.dataDir, appId), { force: true });
  await fs.rm(appLogCursorPath(deps.dataDir, appId), { force: true });
  await db.app.deleteMany({ where: { id: appId, status: "deleting" } });
  if (routed) await removeRoute(deps, log);
  await succeedOperation(db, operationId);
  log.info("app deleted");
}
