// start, stop, restart, rollback and scale of an app (lib/domain/lifecycle.ts writes the intent), carried out by the
// release engine in the app's queue, so they never overlap a deployment's release.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { readinessDepsFromEnv, readinessProblem } from "@/lib/checks/readiness";
import { failOperation } from "@/lib/domain/operations";
import { isFinalFailure } from "@/lib/engine/failure";
import { asRetryableFailure, giveUpRelease, releaseDepsFromEnv, runLifecycle } from "@/lib/engine/release";

export const appLifecycle = defineTask(catalog.app__lifecycle, {
  async run(payload, ctx) {
    let deps: ReturnType<typeof releaseDepsFromEnv>;
    try {
      deps = releaseDepsFromEnv(ctx);
    } catch (error) {
      if (!isFinalFailure(error)) throw error;
      await failOperation(ctx.db, payload.operationId, error.message);
      return;
    }
    // An unready host fails a request nothing has been done for yet (still queued) at once, with what to do.
    const operation = await ctx.db.operation.findUnique({
      where: { id: payload.operationId },
      select: { status: true },
    });
    if (operation?.status === "queued") {
      const problem = await readinessProblem(readinessDepsFromEnv(), { podman: true, caddy: true });
      if (problem) {
        await failOperation(ctx.db, payload.operationId, problem);
        ctx.log.warn({ appId: payload.appId, problem }, "host not ready: lifecycle operation failed without retrying");
        return;
      }
    }
    try {
      await runLifecycle(deps, payload);
    } catch (error) {
      throw asRetryableFailure(error);
    }
  },
  async onGiveUp(payload, reason, ctx) {
    try {
      await giveUpRelease(releaseDepsFromEnv(ctx), { operationId: payload.operationId, appId: payload.appId }, reason);
    } catch (error) {
      ctx.log.error({ err: error }, "could not clean up after the lifecycle operation gave up");
      await failOperation(ctx.db, payload.operationId, reason);
    }
  },
});
