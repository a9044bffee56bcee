// The metrics sampler (lib/engine/metrics, docs/metrics.md): every 15 s, one `podman stats` for all containers and
// the new lines of Caddy's access log. graphile-worker's crontab ticks each minute, so the minute's run queues the
// three passes 15, 30 and 45 s after its tick under job keys (a duplicate tick replaces them, never doubles them),
// and those queue nothing: the cadence never drifts, survives worker restarts (the crontab starts it again) and
// needs no timer in the worker. The "metrics" queue runs the passes one at a time across every worker of the
// cluster, so there is one sampler however many workers run.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { enqueue } from "@/jobs/enqueue";
import { caddyAccessLogPath } from "@/lib/data-paths";
import { metricsPass } from "@/lib/engine/metrics";
import { getEnv } from "@/lib/env";
import { getInfra, MissingExecutableError } from "@/lib/services/infra";

export const METRICS_OFFSETS = [15, 30, 45] as const;

export const metricsSample = defineTask(catalog.metrics__sample, {
  async run(payload, { db, log }) {
    if (payload.offset === undefined) {
      const tick = payload._cron ? Date.parse(payload._cron.ts) : Date.now();
      const base = Number.isNaN(tick) ? Date.now() : tick;
      await db.$transaction(async (tx) => {
        for (const offset of METRICS_OFFSETS) {
          await enqueue(
            tx,
            "metrics__sample",
            { offset },
            { jobKey: `metrics-sample-${offset}`, runAt: new Date(base + offset * 1000) },
          );
        }
      });
    }
    const env = getEnv();
    let podman: ReturnType<ReturnType<typeof getInfra>["podman"]> | null;
    try {
      podman = getInfra().podman();
    } catch (error) {
      if (!(error instanceof MissingExecutableError)) throw error;
      podman = null;
    }
    const report = await metricsPass({
      db,
      podman,
      accessLog: caddyAccessLogPath(env.dataDir),
      appsDomain: env.appsDomain,
      log,
    });
    log.debug(report, "metrics pass");
  },
});
