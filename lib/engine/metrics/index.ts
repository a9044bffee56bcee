// Metrics (issue #17; docs/metrics.md): the sampler pass the metrics__sample job runs every 15 s (resources from one
// `podman stats`, then the new lines of Caddy's access log), and the downsampling and retention metrics__rollup
// runs every 5 minutes.
import type { Logger } from "pino";
import type { Db } from "@/lib/db";
import type { ContainerHost } from "@/lib/infra/container-host";
import { type IngestReport, ingestAccessLog } from "./access-log";
import { type SampleReport, sampleResources } from "./sample";

export { bucketIndex, bucketUpperMs, LATENCY_BUCKETS, mergeInto, quantileMs } from "@/lib/domain/metrics-histogram";
export { parseAccessLine } from "./access-line";
export { INGEST_STATE_ID, type IngestReport, ingestAccessLog } from "./access-log";
export { BUCKET_MS, BUCKET_RETENTION_MS, RAW_RETENTION_MS, type RollupReport, rollupMetrics } from "./rollup";
export { type SampleReport, sampleResources } from "./sample";

export type MetricsPassDeps = {
  db: Db;
  /** Null on a host without podman: only the access log is read. */
  podman: Pick<ContainerHost, "statsAll"> | null;
  accessLog: string;
  appsDomain: string;
  log: Logger;
  now?: () => number;
  maxReadBytes?: number;
};

export type MetricsPassReport = { resources: SampleReport | null; http: IngestReport };

export async function metricsPass(deps: MetricsPassDeps): Promise<MetricsPassReport> {
  const resources =
    deps.podman === null
      ? null
      : await sampleResources({ db: deps.db, podman: deps.podman, log: deps.log, now: deps.now }).catch(
          (error: unknown) => {
            // podman failing must not stop the HTTP metrics; the next pass samples again.
            deps.log.warn({ err: error }, "metrics: podman stats failed");
            return null;
          },
        );
  const http = await ingestAccessLog({
    db: deps.db,
    file: deps.accessLog,
    appsDomain: deps.appsDomain,
    log: deps.log,
    maxBytes: deps.maxReadBytes,
  });
  return { resources, http };
}
