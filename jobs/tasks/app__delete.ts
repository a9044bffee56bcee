// Removes an app: its containers and images on this host, its build logs, then its rows (env vars, deployments).
import fs from "node:fs/promises";
import { z } from "zod";
import { defineTask } from "@/jobs/define";
import { claimOperation, failOperation, succeedOperation } from "@/lib/domain/operations";
import { getEnv } from "@/lib/env";
import { getInfra, MissingExecutableError } from "@/lib/platform/infra";
import { buildWorkspace, deploymentLogPath } from "@/lib/platform/paths";

export const appDelete = defineTask({
  name: "app__delete",
  payload: z.strictObject({ operationId: z.uuid(), appId: z.uuid() }),
  maxAttempts: 10,
  async run({ operationId, appId }, { db, log }) {
    if (!(await claimOperation(db, operationId))) return;
    const app = await db.app.findUnique({
      where: { id: appId },
      include: { deployments: { select: { id: true, imageRef: true } } },
    });
    if (!app) {
      await succeedOperation(db, operationId);
      return;
    }
    const appLog = log.child({ appId, teamId: app.teamId, operationId });
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
    await db.app.deleteMany({ where: { id: appId, status: "deleting" } });
    await succeedOperation(db, operationId);
    appLog.info("app deleted");
  },
  async onGiveUp({ operationId }, reason, { db }) {
    await failOperation(db, operationId, reason);
  },
});
