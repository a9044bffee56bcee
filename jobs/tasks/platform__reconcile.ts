// Periodic convergence of containers and routing with the database (lib/engine/reconcile.ts): orphan containers
// removed, missing replicas of running apps restarted, Caddy re-synced when it lost its config. From the crontab
// every few minutes and once at worker start; one at a time (its own queue), and a pending run absorbs new requests
// (job key), so a burst of triggers costs one pass.
import { z } from "zod";
import { defineTask } from "@/jobs/define";
import { getInfra, MissingExecutableError } from "@/lib/platform/infra";
import { reconcile } from "@/lib/engine/reconcile";
import { routingConfigFromEnv } from "@/lib/engine/routing";

export const RECONCILE_JOB_KEY = "platform-reconcile";

export const platformReconcile = defineTask({
  name: "platform__reconcile",
  queue: "platform-reconcile",
  // Cron jobs carry graphile-worker's `_cron` descriptor and nothing else.
  payload: z.object({ _cron: z.object({ ts: z.string(), backfilled: z.boolean().optional() }).optional() }),
  // The next scheduled run comes in a few minutes anyway.
  maxAttempts: 2,
  async run(_payload, { db, log }) {
    const infra = getInfra();
    let podman: ReturnType<typeof infra.podman> | null = null;
    try {
      podman = infra.podman();
    } catch (error) {
      if (!(error instanceof MissingExecutableError)) throw error;
      log.debug("no podman on this host: only the router is reconciled");
    }
    const report = await reconcile({ db, podman, caddy: infra.caddy(), routing: routingConfigFromEnv(), log });
    const changed = report.removed.length + report.restarted.length + (report.routingResynced ? 1 : 0);
    if (changed > 0) log.info(report, "reconciled");
    else log.debug(report, "nothing to reconcile");
  },
});
