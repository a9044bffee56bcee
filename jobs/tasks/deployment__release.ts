// Releases a built deployment (lib/engine/release): the release command, new sandboxed replicas, health checks,
// the traffic switch in Caddy, then the previous release drained and removed. Enqueued by deployment__build in the
// transaction that marks the build done, into the app's queue, and finishes the deployment's operation.
import fs from "node:fs/promises";
import path from "node:path";
import { catalog } from "@/jobs/catalog";
import { defineTask, type TaskContext } from "@/jobs/define";
import { readinessDepsFromEnv, readinessProblem } from "@/lib/checks/readiness";
import { deploymentLogPath } from "@/lib/data-paths";
import { isFinalFailure } from "@/lib/engine/failure";
import {
  asRetryableFailure,
  giveUpRelease,
  markDeploymentFailed,
  releaseDeployment,
  releaseDepsFromEnv,
} from "@/lib/engine/release";
import { getEnv } from "@/lib/env";

/**
 * An unready host (no container engine or sandbox runtime) fails a release that has not switched yet at once, with
 * what to do, instead of after every retry. A release whose switch already committed is left to finish its drain.
 * Caddy is not asked: a Caddy that is down or restarting fails the switch retryably (lib/engine/release/switch.ts),
 * and the job's retries wait for it with the new containers up, instead of failing a deploy over an outage.
 */
async function failedFastOnUnreadyHost(
  payload: { deploymentId: string; operationId: string },
  { db, log }: TaskContext,
): Promise<boolean> {
  const row = await db.deployment.findUnique({ where: { id: payload.deploymentId }, select: { status: true } });
  if (!row || (row.status !== "built" && row.status !== "releasing")) return false;
  const problem = await readinessProblem(readinessDepsFromEnv(), { podman: true });
  if (!problem) return false;
  const file = deploymentLogPath(getEnv().dataDir, payload.deploymentId);
  await fs
    .mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    .then(() => fs.appendFile(file, `==> Failed: ${problem}\n`, { mode: 0o600 }))
    .catch(() => undefined);
  await markDeploymentFailed(db, payload.deploymentId, payload.operationId, problem);
  log.warn({ deploymentId: payload.deploymentId, problem }, "host not ready: release failed without retrying");
  return true;
}

export const deploymentRelease = defineTask(catalog.deployment__release, {
  async run(payload, ctx) {
    let deps: ReturnType<typeof releaseDepsFromEnv>;
    try {
      deps = releaseDepsFromEnv(ctx);
    } catch (error) {
      if (!isFinalFailure(error)) throw error;
      await markDeploymentFailed(ctx.db, payload.deploymentId, payload.operationId, error.message);
      return;
    }
    if (await failedFastOnUnreadyHost(payload, ctx)) return;
    try {
      await releaseDeployment(deps, payload);
    } catch (error) {
      throw asRetryableFailure(error);
    }
  },
  async onGiveUp(payload, reason, ctx) {
    try {
      await giveUpRelease(releaseDepsFromEnv(ctx), payload, reason);
    } catch (error) {
      ctx.log.error({ err: error }, "could not clean up after the release gave up");
      await markDeploymentFailed(ctx.db, payload.deploymentId, payload.operationId, reason);
    }
  },
});
