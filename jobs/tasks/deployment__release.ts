// Releases a built deployment (lib/platform/release.ts): the release command, new sandboxed replicas, health checks,
// the traffic switch in Caddy, then the previous release drained and removed. Enqueued by deployment__build in the
// transaction that marks the build done, into the app's queue, and finishes the deployment's operation.
import { z } from "zod";
import { defineTask } from "@/jobs/define";
import {
  asRetryableFailure,
  giveUpRelease,
  markDeploymentFailed,
  ReleaseFailure,
  releaseDeployment,
  releaseDepsFromEnv,
} from "@/lib/platform/release";

export const deploymentRelease = defineTask({
  name: "deployment__release",
  payload: z.strictObject({ deploymentId: z.uuid(), operationId: z.uuid() }),
  // Each attempt resumes where the last one stopped; three covers a worker restart and a podman hiccup.
  maxAttempts: 3,
  async run(payload, ctx) {
    let deps: ReturnType<typeof releaseDepsFromEnv>;
    try {
      deps = releaseDepsFromEnv(ctx);
    } catch (error) {
      if (!(error instanceof ReleaseFailure)) throw error;
      await markDeploymentFailed(ctx.db, payload.deploymentId, payload.operationId, error.message);
      return;
    }
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
