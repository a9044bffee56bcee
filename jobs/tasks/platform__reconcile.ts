// Periodic convergence of containers and routing with the database (lib/engine/reconcile.ts): deployments and
// operations past their time limit ended (lib/engine/expire.ts), orphan containers removed, missing replicas of
// running apps restarted, Caddy re-synced when it lost its config. From the crontab
// every few minutes and once at worker start; one at a time (its own queue), and a pending run absorbs new requests
// (job key), so a burst of triggers costs one pass.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { expiryLimitsFromConfig } from "@/lib/engine/expire";
import { reconcile } from "@/lib/engine/reconcile";
import { routingConfigFromEnv } from "@/lib/engine/routing";
import { getEnv } from "@/lib/env";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

export const RECONCILE_JOB_KEY = "platform-reconcile";

export const platformReconcile = defineTask(catalog.platform__reconcile, {
  async run(_payload, { db, log }) {
    const infra = getInfra();
    let podman: ReturnType<typeof infra.podman> | null = null;
    try {
      podman = infra.podman();
    } catch (error) {
      if (!(error instanceof MissingExecutableError)) throw error;
      log.debug("no podman on this host: only the router is reconciled");
    }
    const env = getEnv();
    const limits = expiryLimitsFromConfig({ ...env.release, buildTimeoutMs: env.infra.buildTimeoutMs });
    const report = await reconcile({ db, podman, caddy: infra.caddy(), routing: routingConfigFromEnv(), log, limits });
    const changed =
      report.removed.length +
      report.restarted.length +
      (report.routingResynced ? 1 : 0) +
      report.expired.deployments.length +
      report.expired.operations.length;
    if (changed > 0) log.info(report, "reconciled");
    else log.debug(report, "nothing to reconcile");
  },
});
