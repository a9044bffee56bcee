// An app's metrics as time series (issue #17; docs/metrics.md): resources per process type, HTTP traffic from
// Caddy's access log, and the deployments of the range, in one answer a chart needs nothing else for.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { iso, isoDate } from "@/lib/api/endpoints/common";
import { type AppMetrics, METRICS_RANGES, type ProcessPoint } from "@/lib/domain/metrics";

const byProcessSeries = (what: string) =>
  z
    .array(
      z.object({
        t: isoDate.describe("The start of the step"),
        byProcess: z.record(z.string(), z.number()).describe("A value per process type (web, worker, ...)"),
      }),
    )
    .describe(what);

export const appMetricsSchema = z.object({
  range: z.enum(METRICS_RANGES),
  step: z.number().int().describe("Seconds between two points of the resource series"),
  httpStep: z.number().int().describe("Seconds between two points of the HTTP series"),
  from: isoDate,
  to: isoDate,
  processes: z.array(z.string()).describe("The process types with samples in the range, sorted"),
  cpu: byProcessSeries("CPU as a share of one replica's CPU limit (1 = the whole limit), averaged over replicas"),
  memory: byProcessSeries("Memory in bytes, summed over the process type's replicas"),
  memoryLimit: byProcessSeries("Memory limit in bytes, summed over the process type's replicas"),
  netIn: byProcessSeries("Bytes received during the step"),
  netOut: byProcessSeries("Bytes sent during the step"),
  restarts: byProcessSeries("Crash restarts of the replicas since they last ran stably"),
  http: z
    .array(
      z.object({
        t: isoDate,
        requests: z.number().int(),
        status1xx: z.number().int(),
        status2xx: z.number().int(),
        status3xx: z.number().int(),
        status4xx: z.number().int(),
        status5xx: z.number().int(),
        bytes: z.number().int().describe("Response body bytes"),
        p50Ms: z.number().nullable().describe("Median latency in milliseconds (a histogram bucket's upper bound)"),
        p95Ms: z.number().nullable(),
        p99Ms: z.number().nullable(),
      }),
    )
    .describe("Requests through the platform's proxy per step; steps without requests are absent"),
  deployments: z
    .array(z.object({ id: z.uuid(), number: z.number().int(), at: isoDate, status: z.string() }))
    .describe("Deployments that finished (or started and are still going) in the range, for markers"),
});

function points(series: ProcessPoint[]) {
  return series.map((point) => ({ t: point.t.toISOString(), byProcess: point.byProcess }));
}

export function appMetricsJson(metrics: AppMetrics): z.input<typeof appMetricsSchema> {
  return {
    ...metrics,
    from: iso(metrics.from),
    to: iso(metrics.to),
    cpu: points(metrics.cpu),
    memory: points(metrics.memory),
    memoryLimit: points(metrics.memoryLimit),
    netIn: points(metrics.netIn),
    netOut: points(metrics.netOut),
    restarts: points(metrics.restarts),
    http: metrics.http.map((point) => ({ ...point, t: iso(point.t) })),
    deployments: metrics.deployments.map((deployment) => ({ ...deployment, at: iso(deployment.at) })),
  };
}

const exampleTime = "2026-12-03T18:00:00.000Z";

export const appMetricsEndpoint = defineEndpoint({
  id: "getAppMetrics",
  method: "GET",
  path: "/api/v1/apps/{appId}/metrics",
  summary: "The app's resource and HTTP metrics over a range, with its deployments for markers",
  description:
    "CPU, memory, network and restarts per process type (sampled every 15 s by the worker), and requests, " +
    "status classes, latency percentiles and bytes from the platform's proxy. `1h` and `24h` read the raw " +
    "samples (kept 24 hours), `7d` and `30d` the 5-minute buckets (kept 30 days). Data appears about a minute " +
    "after an app starts serving.",
  examples: {
    responses: {
      200: {
        range: "1h",
        step: 15,
        httpStep: 60,
        from: "2026-12-03T17:00:00.000Z",
        to: exampleTime,
        processes: ["web"],
        cpu: [{ t: exampleTime, byProcess: { web: 0.12 } }],
        memory: [{ t: exampleTime, byProcess: { web: 56300000 } }],
        memoryLimit: [{ t: exampleTime, byProcess: { web: 536870912 } }],
        netIn: [{ t: exampleTime, byProcess: { web: 1200 } }],
        netOut: [{ t: exampleTime, byProcess: { web: 3400 } }],
        restarts: [{ t: exampleTime, byProcess: { web: 0 } }],
        http: [
          {
            t: exampleTime,
            requests: 42,
            status1xx: 0,
            status2xx: 40,
            status3xx: 0,
            status4xx: 2,
            status5xx: 0,
            bytes: 51234,
            p50Ms: 4,
            p95Ms: 22.63,
            p99Ms: 38.05,
          },
        ],
        deployments: [
          { id: "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", number: 7, at: "2026-12-03T17:40:00.000Z", status: "running" },
        ],
      },
    },
  },
  tags: ["apps"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: z.strictObject({ appId: z.uuid() }),
  query: z.strictObject({
    range: z.enum(METRICS_RANGES).default("1h").describe("How far back: 1h, 24h, 7d or 30d (default 1h)"),
  }),
  responses: { 200: { description: "The series", schema: appMetricsSchema } },
});
