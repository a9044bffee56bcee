// Downsampling and retention of the metrics tables (issue #17). Raw resource samples (every 15 s, per replica) and
// per-minute HTTP rows are kept 24 hours; 5-minute buckets (per process type for resources, per app for HTTP) are
// kept 30 days. Every run recomputes each complete 5-minute bucket since the newest one already written (at least
// the last hour, at most the 24 raw hours) from the raw rows and upserts it whole, so a re-run, a retry or two
// workers racing write the same rows; a window whose raw rows are partly pruned is never recomputed.
import type { Db } from "@/lib/db";
import { Prisma } from "@/lib/generated/prisma/client";

export const RAW_RETENTION_MS = 24 * 60 * 60_000;
export const BUCKET_RETENTION_MS = 30 * 24 * 60 * 60_000;
export const BUCKET_MS = 5 * 60_000;
const MIN_LOOKBACK_MS = 60 * 60_000;
const ORIGIN = Prisma.sql`'1970-01-01T00:00:00Z'::timestamptz`;

export type RollupReport = { from: Date; to: Date; resourceBuckets: number; httpBuckets: number; pruned: number };

export async function rollupMetrics(db: Db, now: number = Date.now()): Promise<RollupReport> {
  const to = new Date(Math.floor(now / BUCKET_MS) * BUCKET_MS);
  const oldestWhole = Math.ceil((now - RAW_RETENTION_MS) / BUCKET_MS) * BUCKET_MS;
  const [latest] = await db.$queryRaw<{ start: Date | null }[]>`
    SELECT max("start") AS "start" FROM "MetricBucket"`;
  const since = Math.min(to.getTime() - MIN_LOOKBACK_MS, latest?.start?.getTime() ?? oldestWhole);
  const from = new Date(Math.max(oldestWhole, since));

  const resourceBuckets = await db.$executeRaw`
    INSERT INTO "MetricBucket" ("appId", "process", "start", "cpuAvg", "cpuMax", "memoryAvg", "memoryMax",
      "memoryLimit", "netInBytes", "netOutBytes", "restarts", "samples")
    SELECT "appId", "process", "bucket", avg("cpu"), max("cpuMax"), round(avg("memory"))::bigint, max("memory"),
      max("memoryLimit"), sum("netIn")::bigint, sum("netOut")::bigint, max("restarts"), count(*)::int
    FROM (
      SELECT "appId", "process", "at", date_bin('5 minutes', "at", ${ORIGIN}) AS "bucket",
        avg("cpu") AS "cpu", max("cpu") AS "cpuMax", sum("memoryBytes") AS "memory",
        sum("memoryLimitBytes") AS "memoryLimit", sum("netInBytes") AS "netIn", sum("netOutBytes") AS "netOut",
        sum("restarts")::int AS "restarts"
      FROM "MetricSample"
      WHERE "at" >= ${from} AND "at" < ${to}
      GROUP BY "appId", "process", "at"
    ) AS "perSample"
    GROUP BY "appId", "process", "bucket"
    ON CONFLICT ("appId", "process", "start") DO UPDATE SET
      "cpuAvg" = EXCLUDED."cpuAvg", "cpuMax" = EXCLUDED."cpuMax", "memoryAvg" = EXCLUDED."memoryAvg",
      "memoryMax" = EXCLUDED."memoryMax", "memoryLimit" = EXCLUDED."memoryLimit",
      "netInBytes" = EXCLUDED."netInBytes", "netOutBytes" = EXCLUDED."netOutBytes",
      "restarts" = EXCLUDED."restarts", "samples" = EXCLUDED."samples"`;

  const httpBuckets = await db.$executeRaw`
    WITH "src" AS (
      SELECT *, date_bin('5 minutes', "start", ${ORIGIN}) AS "bucket" FROM "HttpMetric"
      WHERE "step" = 60 AND "start" >= ${from} AND "start" < ${to}
    ), "sums" AS (
      SELECT "appId", "bucket", sum("requests")::int AS "requests", sum("status1xx")::int AS "s1",
        sum("status2xx")::int AS "s2", sum("status3xx")::int AS "s3", sum("status4xx")::int AS "s4",
        sum("status5xx")::int AS "s5", sum("bytes")::bigint AS "bytes"
      FROM "src" GROUP BY "appId", "bucket"
    ), "hist" AS (
      SELECT "appId", "bucket", array_agg("count" ORDER BY "i") AS "latency"
      FROM (
        SELECT "src"."appId", "src"."bucket", "u"."i", sum("u"."v")::int AS "count"
        FROM "src", unnest("src"."latency") WITH ORDINALITY AS "u"("v", "i")
        GROUP BY 1, 2, 3
      ) AS "perIndex"
      GROUP BY "appId", "bucket"
    )
    INSERT INTO "HttpMetric" ("appId", "step", "start", "requests", "status1xx", "status2xx", "status3xx",
      "status4xx", "status5xx", "bytes", "latency")
    SELECT "sums"."appId", 300, "sums"."bucket", "requests", "s1", "s2", "s3", "s4", "s5", "bytes",
      coalesce("hist"."latency", '{}')
    FROM "sums" LEFT JOIN "hist" USING ("appId", "bucket")
    ON CONFLICT ("appId", "step", "start") DO UPDATE SET
      "requests" = EXCLUDED."requests", "status1xx" = EXCLUDED."status1xx", "status2xx" = EXCLUDED."status2xx",
      "status3xx" = EXCLUDED."status3xx", "status4xx" = EXCLUDED."status4xx", "status5xx" = EXCLUDED."status5xx",
      "bytes" = EXCLUDED."bytes", "latency" = EXCLUDED."latency"`;

  const rawCut = new Date(now - RAW_RETENTION_MS);
  const bucketCut = new Date(now - BUCKET_RETENTION_MS);
  const pruned = await pruneMetrics(db, rawCut, bucketCut);
  return { from, to, resourceBuckets, httpBuckets, pruned };
}

async function pruneMetrics(db: Db, rawCut: Date, bucketCut: Date): Promise<number> {
  const counts = await db.$transaction([
    db.metricSample.deleteMany({ where: { at: { lt: rawCut } } }),
    db.httpMetric.deleteMany({ where: { step: 60, start: { lt: rawCut } } }),
    db.httpMetric.deleteMany({ where: { step: { not: 60 }, start: { lt: bucketCut } } }),
    db.metricBucket.deleteMany({ where: { start: { lt: bucketCut } } }),
  ]);
  return counts.reduce((sum, result) => sum + result.count, 0);
}
