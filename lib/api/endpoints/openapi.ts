import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";

export const getOpenApiEndpoint = defineEndpoint({
  id: "getOpenApi",
  method: "GET",
  path: "/api/v1/openapi.json",
  summary: "This document",
  tags: ["platform"],
  auth: "public",
  errors: [],
  responses: { 200: { description: "The OpenAPI 3.1 document", schema: z.record(z.string(), z.unknown()) } },
});
