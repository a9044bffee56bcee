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
  tags: ["platform"],
  auth: "public",
  errors: [],
  responses: {
    200: { description: "Every part is healthy", schema: healthBody },
    503: { description: "The database or the worker is unavailable", schema: healthBody },
  },
});
