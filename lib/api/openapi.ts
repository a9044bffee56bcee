// The OpenAPI 3.1 document, generated from the registered endpoints' zod schemas.
import { z } from "zod";
import { type Endpoint, errorBody } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { ERROR_STATUS } from "@/lib/errors";

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  });
  return rest;
}

function parametersOf(endpoint: Endpoint): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const [location, schema] of [
    ["path", endpoint.params],
    ["query", endpoint.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      parameters.push({
        name,
        in: location,
        required: location === "path" || (json.required ?? []).includes(name),
        schema: property,
      });
    }
  }
  return parameters;
}

const ERROR_DESCRIPTIONS: Partial<Record<number, string>> = {
  400: "Malformed JSON",
  401: "Missing, invalid, expired or revoked API token",
  403: "The token lacks the scope, or its role lacks the permission",
  404: "Not found (also for another team's IDs)",
  413: "Body too large",
  422: "Invalid input; the zod issues are in details",
  500: "Internal error",
};

export function buildOpenApiDocument(serverUrl?: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const endpoint of endpoints) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(endpoint.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { "application/json": { schema: schemaOf(response.schema, "output") } } }
          : {}),
      };
    }
    const errorStatuses: number[] = [ERROR_STATUS.internal, ...(endpoint.params ? [ERROR_STATUS.not_found] : [])];
    if (endpoint.auth !== "public") errorStatuses.push(ERROR_STATUS.unauthenticated, ERROR_STATUS.forbidden);
    if (endpoint.query || endpoint.body) errorStatuses.push(ERROR_STATUS.invalid);
    if (endpoint.body) errorStatuses.push(ERROR_STATUS.bad_request, ERROR_STATUS.too_large);
    for (const status of errorStatuses) {
      responses[String(status)] ??= {
        description: ERROR_DESCRIPTIONS[status] ?? "Error",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    const operation: JsonSchema = {
      operationId: endpoint.id,
      summary: endpoint.summary,
      tags: endpoint.tags,
      parameters: parametersOf(endpoint),
      responses,
      ...(endpoint.auth === "public" ? { security: [] } : { "x-required-scope": endpoint.auth.scope }),
    };
    if (endpoint.body) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: schemaOf(endpoint.body, "input") } },
      };
    }
    paths[endpoint.path] ??= {};
    (paths[endpoint.path] as Record<string, JsonSchema>)[endpoint.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Tussilago API",
      version: "1",
      description: "Self-hosted application platform. Authenticate with `Authorization: Bearer <team API token>`.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Error: schemaOf(errorBody, "output") },
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A team API token (tsl_...)" } },
    },
    security: [{ bearer: [] }],
  };
}
