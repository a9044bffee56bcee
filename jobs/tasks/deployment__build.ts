// Builds a deployment's image (lib/engine/build): source, plan, vetted or rendered Containerfile, `podman build`, the
// scrubbed build log; a built image goes on to deployment__release, queued in the transaction that marks it built.
// The engine ends the deployment itself on a final failure (the user's, a cancel, an unready host); anything else is
// thrown and retried, and the last attempt's reason fails the deployment and its operation.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { buildDeployment, buildDepsFromEnv, giveUpBuild } from "@/lib/engine/build";

export const deploymentBuild = defineTask(catalog.deployment__build, {
  async run(payload, ctx) {
    await buildDeployment(buildDepsFromEnv(ctx), payload);
  },
  async onGiveUp(payload, reason, ctx) {
    await giveUpBuild(ctx, payload, reason);
  },
});
