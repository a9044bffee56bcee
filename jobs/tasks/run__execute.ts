// Executes a one-off or cron run (lib/engine/runs.ts) in a container of its release. A final failure (the release's
// image gone, the host without podman) ends the run with its reason at once; anything else is retried, and a retry
// adopts the container the earlier attempt started. When the attempts run out the run fails with the reason.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { asRetryableFailure, isFinalFailure } from "@/lib/engine/failure";
import { releaseDepsFromEnv } from "@/lib/engine/release";
import { executeRun, finishRun, runContainerName } from "@/lib/engine/runs";

export const runExecute = defineTask(catalog.run__execute, {
  async run(payload, ctx) {
    const run = await ctx.db.run.findUnique({ where: { id: payload.runId }, select: { id: true, operationId: true } });
    if (!run) return;
    try {
      await executeRun(releaseDepsFromEnv(ctx), payload.runId);
    } catch (error) {
      if (!isFinalFailure(error)) throw asRetryableFailure(error, "Several attempts failed.");
      await finishRun(ctx.db, run, { status: "failed", reason: error.message });
    }
  },
  async onGiveUp(payload, reason, ctx) {
    const run = await ctx.db.run.findUnique({ where: { id: payload.runId }, select: { id: true, operationId: true } });
    if (!run) return;
    await finishRun(ctx.db, run, { status: "failed", reason });
    // The container, if one started, is an orphan now; removing it here saves waiting for the reconcile pass.
    try {
      await releaseDepsFromEnv(ctx).podman.remove(runContainerName(run.id));
    } catch (error) {
      ctx.log.warn({ err: error, runId: run.id }, "could not remove the container of a run that gave up");
    }
  },
});
