import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";

const status = z.enum(["ok", "unavailable"]);

export const healthBody = z.object({
  status,
  checks: z.object({
    web: z.object({ status }),
    database: z.object({ status, latencyMs: z.number().nullable() }),
    worker: z.object({
      status,
      heartbeatAgeSeconds: z.number().nullable().describe("Seconds since the newest worker heartbeat"),
    }),
  }),
});

export const getHealthEndpoint = defineEndpoint({
  id: "getHealth",
  method: "GET",
  path: "/api/health",
  summary: "Liveness of the web server, the platform database and the worker",
  description:
    "Whether the web server, the platform database and the worker are up: `200` when all are, `503` (same body) when the database does not answer or no worker heartbeat is recent. For load balancers and monitoring; it reveals no team data.",
  examples: {
    responses: {
      200: {
        status: "ok",
        checks: {
          web: { status: "ok" },
          database: { status: "ok", latencyMs: 1.4 },
          worker: { status: "ok", heartbeatAgeSeconds: 3 },
        },
      },
      503: {
        status: "unavailable",
        checks: {
          web: { status: "ok" },
          database: { status: "ok", latencyMs: 1.2 },
          worker: { status: "unavailable", heartbeatAgeSeconds: 412 },
        },
      },
    },
  },
  tags: ["platform"],
  auth: "public",
  errors: [],
  responses: {
    200: { description: "Every part is healthy", schema: healthBody },
    503: { description: "The database or the worker is unavailable", schema: healthBody },
  },
});
