import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";

export const getOpenApiEndpoint = defineEndpoint({
  id: "getOpenApi",
  method: "GET",
  path: "/api/v1/openapi.json",
  summary: "This document",
  description:
    "This OpenAPI 3.1 document, generated from the same zod schemas that validate every request and answer. The portal renders it at `/docs/api`.",
  examples: { responses: { 200: { openapi: "3.1.0", info: { title: "Tussilago API", version: "1" }, paths: {} } } },
  tags: ["platform"],
  auth: "public",
  errors: [],
  responses: { 200: { description: "The OpenAPI 3.1 document", schema: z.record(z.string(), z.unknown()) } },
});
