// The metrics of an app as time series (GET /api/v1/apps/{appId}/metrics, the app's Metrics tab): resource use per
// process type and HTTP traffic, over 1 hour, 24 hours, 7 or 30 days, with the deployments of the range for markers.
// Four queries whatever the range or the number of points: the app (authorization), the resource series, the HTTP
// series and the deployments. 1h and 24h read the raw samples (every 15 s, per replica) and the per-minute HTTP rows;
// 7d and 30d the 5-minute buckets (lib/engine/metrics/rollup.ts). Points are grouped by `step` in SQL (date_bin), so
// a range never returns more than a few thousand points; latency percentiles come from the merged histograms.
import type { Db } from "@/lib/db";
import { authorize, type Ctx } from "@/lib/domain/context";
import { quantileMs } from "@/lib/domain/metrics-histogram";
import { AppError } from "@/lib/errors";
import { Prisma } from "@/lib/generated/prisma/client";

export const METRICS_RANGES = ["1h", "24h", "7d", "30d"] as const;
export type MetricsRange = (typeof METRICS_RANGES)[number];

type RangeSpec = { ms: number; step: number; httpStep: number; source: "raw" | "buckets" };

const HOUR = 3_600_000;
export const RANGE_SPECS: Record<MetricsRange, RangeSpec> = {
  "1h": { ms: HOUR, step: 15, httpStep: 60, source: "raw" },
  "24h": { ms: 24 * HOUR, step: 60, httpStep: 60, source: "raw" },
  "7d": { ms: 7 * 24 * HOUR, step: 300, httpStep: 300, source: "buckets" },
  "30d": { ms: 30 * 24 * HOUR, step: 1800, httpStep: 1800, source: "buckets" },
};

export type ProcessPoint = { t: Date; byProcess: Record<string, number> };
export type HttpPoint = {
  t: Date;
  requests: number;
  status1xx: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  bytes: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
};

export type AppMetrics = {
  range: MetricsRange;
  step: number;
  httpStep: number;
  from: Date;
  to: Date;
  processes: string[];
  cpu: ProcessPoint[];
  memory: ProcessPoint[];
  memoryLimit: ProcessPoint[];
  netIn: ProcessPoint[];
  netOut: ProcessPoint[];
  restarts: ProcessPoint[];
  http: HttpPoint[];
  deployments: { id: string; number: number; at: Date; status: string }[];
};

type ResourceRow = {
  t: Date;
  process: string;
  cpu: number;
  memory: number;
  memoryLimit: number;
  netIn: number;
  netOut: number;
  restarts: number;
};

type HttpRow = {
  t: Date;
  requests: number;
  s1: number;
  s2: number;
  s3: number;
  s4: number;
  s5: number;
  bytes: number;
  latency: number[] | null;
};

const ORIGIN = Prisma.sql`'1970-01-01T00:00:00Z'::timestamptz`;
const MAX_DEPLOYMENT_MARKERS = 200;

export async function getAppMetrics(
  db: Db,
  ctx: Ctx,
  appId: string,
  range: MetricsRange,
  now: Date = new Date(),
): Promise<AppMetrics> {
  authorize(ctx, "apps:read");
  const app = await db.app.findFirst({ where: { id: appId, teamId: ctx.teamId }, select: { id: true } });
  if (!app) throw new AppError("not_found", "App not found.");
  const spec = RANGE_SPECS[range];
  const from = new Date(now.getTime() - spec.ms);
  const step = Prisma.sql`${`${spec.step} seconds`}::interval`;
  const httpStep = Prisma.sql`${`${spec.httpStep} seconds`}::interval`;

  // Per sample first (replicas of a process summed, CPU averaged), then per step.
  const resources =
    spec.source === "raw"
      ? await db.$queryRaw<ResourceRow[]>`
          SELECT date_bin(${step}, "at", ${ORIGIN}) AS "t", "process",
            avg("cpu")::float8 AS "cpu", avg("memory")::float8 AS "memory", max("memoryLimit")::float8 AS "memoryLimit",
            sum("netIn")::float8 AS "netIn", sum("netOut")::float8 AS "netOut", max("restarts")::float8 AS "restarts"
          FROM (
            SELECT "at", "process", avg("cpu") AS "cpu", sum("memoryBytes") AS "memory",
              sum("memoryLimitBytes") AS "memoryLimit", sum("netInBytes") AS "netIn", sum("netOutBytes") AS "netOut",
              sum("restarts") AS "restarts"
            FROM "MetricSample" WHERE "appId" = ${appId}::uuid AND "at" >= ${from} AND "at" <= ${now}
            GROUP BY "at", "process"
          ) AS "perSample"
          GROUP BY 1, 2 ORDER BY 1, 2`
      : await db.$queryRaw<ResourceRow[]>`
          SELECT date_bin(${step}, "start", ${ORIGIN}) AS "t", "process",
            avg("cpuAvg")::float8 AS "cpu", avg("memoryAvg")::float8 AS "memory",
            max("memoryLimit")::float8 AS "memoryLimit", sum("netInBytes")::float8 AS "netIn",
            sum("netOutBytes")::float8 AS "netOut", max("restarts")::float8 AS "restarts"
          FROM "MetricBucket" WHERE "appId" = ${appId}::uuid AND "start" >= ${from} AND "start" <= ${now}
          GROUP BY 1, 2 ORDER BY 1, 2`;

  const httpRows = await db.$queryRaw<HttpRow[]>`
    WITH "src" AS (
      SELECT *, date_bin(${httpStep}, "start", ${ORIGIN}) AS "b" FROM "HttpMetric"
      WHERE "appId" = ${appId}::uuid AND "step" = ${spec.source === "raw" ? 60 : 300} AND "start" >= ${from}
        AND "start" <= ${now}
    )
    SELECT "b" AS "t", sum("requests")::float8 AS "requests", sum("status1xx")::float8 AS "s1",
      sum("status2xx")::float8 AS "s2", sum("status3xx")::float8 AS "s3", sum("status4xx")::float8 AS "s4",
      sum("status5xx")::float8 AS "s5", sum("bytes")::float8 AS "bytes",
      (SELECT array_agg("c" ORDER BY "i") FROM (
        SELECT "u"."i", sum("u"."v")::int AS "c"
        FROM "src" AS "s2", unnest("s2"."latency") WITH ORDINALITY AS "u"("v", "i")
        WHERE "s2"."b" = "src"."b" GROUP BY "u"."i"
      ) AS "merged") AS "latency"
    FROM "src" GROUP BY "b" ORDER BY "b"`;

  const deployments = await db.deployment.findMany({
    where: {
      appId,
      OR: [{ finishedAt: { gte: from } }, { finishedAt: null, createdAt: { gte: from } }],
    },
    select: { id: true, number: true, status: true, createdAt: true, finishedAt: true },
    orderBy: { number: "asc" },
    take: MAX_DEPLOYMENT_MARKERS,
  });

  const processes = [...new Set(resources.map((row) => row.process))].sort();
  return {
    range,
    step: spec.step,
    httpStep: spec.httpStep,
    from,
    to: now,
    processes,
    cpu: series(resources, (row) => round(row.cpu, 4)),
    memory: series(resources, (row) => Math.round(row.memory)),
    memoryLimit: series(resources, (row) => Math.round(row.memoryLimit)),
    netIn: series(resources, (row) => Math.round(row.netIn)),
    netOut: series(resources, (row) => Math.round(row.netOut)),
    restarts: series(resources, (row) => Math.round(row.restarts)),
    http: httpRows.map((row) => {
      const latency = row.latency ?? [];
      return {
        t: row.t,
        requests: row.requests,
        status1xx: row.s1,
        status2xx: row.s2,
        status3xx: row.s3,
        status4xx: row.s4,
        status5xx: row.s5,
        bytes: row.bytes,
        p50Ms: quantileMs(latency, 0.5),
        p95Ms: quantileMs(latency, 0.95),
        p99Ms: quantileMs(latency, 0.99),
      };
    }),
    deployments: deployments.map((deployment) => ({
      id: deployment.id,
      number: deployment.number,
      at: deployment.finishedAt ?? deployment.createdAt,
      status: deployment.status,
    })),
  };
}

/** Rows ordered by time, then process → one point per time with a value per process. */
function series(rows: ResourceRow[], value: (row: ResourceRow) => number): ProcessPoint[] {
  const points: ProcessPoint[] = [];
  for (const row of rows) {
    const last = points[points.length - 1];
    if (last !== undefined && last.t.getTime() === row.t.getTime()) last.byProcess[row.process] = value(row);
    else points.push({ t: row.t, byProcess: { [row.process]: value(row) } });
  }
  return points;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
