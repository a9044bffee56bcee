// Downsampling and retention of the metrics (lib/engine/metrics/rollup.ts): 5-minute buckets from the raw rows,
// raw rows past 24 hours and buckets past 30 days deleted. Idempotent: every run rewrites whole buckets.
import { catalog } from "@/jobs/catalog";
import { defineTask } from "@/jobs/define";
import { rollupMetrics } from "@/lib/engine/metrics";

export const metricsRollup = defineTask(catalog.metrics__rollup, {
  async run(_payload, { db, log }) {
    const report = await rollupMetrics(db);
    log.debug(report, "metrics rollup");
  },
});
