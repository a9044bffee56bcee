// The OpenAPI 3.1 document, generated from the registered endpoints' declarations: their zod schemas, the error
// codes each can answer (lib/api/declared-errors.ts), the scope and role they need and whether they honour
// Idempotency-Key. `npm run lint:openapi` checks it with Redocly's recommended rules.
import { z } from "zod";
import { declaredErrorCodes } from "@/lib/api/declared-errors";
import { type Endpoint, errorBody } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { IDEMPOTENCY_KEY_PATTERN } from "@/lib/api/idempotency";
import { PERMISSIONS } from "@/lib/auth/permissions";
import { getEnv } from "@/lib/env";
import { ERROR_STATUS, type ErrorCode } from "@/lib/errors";

type JsonSchema = Record<string, unknown>;

/**
 * What zod's JSON Schema carries that says nothing to a reader: the safe-integer bounds of every `.int()`, its own
 * (long) regexes next to `format: uuid` and `format: date-time`, and `propertyNames: {type: string}` (JSON keys are
 * strings). Removed after generation, so every endpoint's schemas are clean without special zod calls.
 * lib/api/openapi-docs.test.ts scans the whole document for them.
 */
function withoutNoise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNoise);
  if (node === null || typeof node !== "object") return node;
  const schema: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) schema[key] = withoutNoise(value);
  if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
  if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  if (schema.format === "uuid" || schema.format === "date-time") delete schema.pattern;
  const names = schema.propertyNames as JsonSchema | undefined;
  if (names && Object.keys(names).length === 1 && names.type === "string") delete schema.propertyNames;
  return schema;
}

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  });
  return withoutNoise(rest) as JsonSchema;
}

/** The ID path parameters show in examples and in the curl sample: any UUIDv4 would do. */
export const EXAMPLE_PARAM_ID = "5b0d7a3e-8c1f-4e2a-9b6d-3f4e5a6b7c8d";

function parametersOf(endpoint: Endpoint): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const [location, schema] of [
    ["path", endpoint.params],
    ["query", endpoint.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...propertySchema } = property;
      parameters.push({
        name,
        in: location,
        required: location === "path" || (json.required ?? []).includes(name),
        ...(typeof description === "string" ? { description } : {}),
        ...(location === "path" && propertySchema.format === "uuid" ? { example: EXAMPLE_PARAM_ID } : {}),
        schema: propertySchema,
      });
    }
  }
  if (endpoint.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Replays the first answer to the same method, path and body for 24 hours instead of doing the work again " +
        "(per team); the same key with another request answers 422, while the first is still running 409",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN.source },
    });
  }
  return parameters;
}

const CODE_DESCRIPTIONS: Record<ErrorCode, string> = {
  bad_request: "the body is missing or not valid JSON",
  unauthenticated: "missing, invalid, expired or revoked API token",
  forbidden: "the token's scope or role does not allow this",
  not_found: "no such resource in the token's team (another team's IDs, and malformed IDs, too)",
  method_not_allowed: "the path does not serve this method",
  conflict: "not possible in the resource's current state, a name already taken, or an idempotency key in use",
  quota_exceeded: "a quota of the team or the instance is reached; details say which",
  cancelled: "work stopped on purpose",
  too_large: "the body is larger than its limit",
  unsupported_media_type: "a Content-Type or Content-Encoding this operation does not read",
  invalid: "invalid input (issues in details): the body, the query string or the Idempotency-Key header",
  rate_limited: "too many attempts; retry after Retry-After seconds",
  internal: "an unexpected error, logged with the request ID",
  unavailable: "temporarily unavailable (the platform database, or a service this installation lacks)",
};

const RETRY_AFTER = {
  description: "Seconds to wait before retrying",
  schema: { type: "integer", minimum: 1 },
};

function responsesOf(endpoint: Endpoint): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = {};
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of declaredErrorCodes(endpoint)) {
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  }
  const examples = endpoint.examples.responses as Record<string, unknown>;
  for (const [status, response] of Object.entries(endpoint.responses)) {
    if (byStatus.has(Number(status))) continue;
    const media = response.schema
      ? {
          schema: schemaOf(response.schema, "output"),
          ...(examples[status] !== undefined ? { example: examples[status] } : {}),
        }
      : undefined;
    if (response.binary) {
      responses[status] = {
        description: response.description,
        content: { [response.binary.contentType]: { schema: { type: "string", format: "binary" } } },
      };
      continue;
    }
    responses[status] = {
      description: response.description,
      ...(media ? { content: { "application/json": media } } : {}),
    };
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const declared = endpoint.responses[status]?.description;
    const meanings = codes.map((code) => `\`${code}\`: ${CODE_DESCRIPTIONS[code]}`).join("; ");
    responses[String(status)] = {
      description: declared ? `${declared}. ${meanings}` : meanings,
      "x-error-codes": codes,
      ...(status === 429 || status === 503 ? { headers: { "Retry-After": RETRY_AFTER } } : {}),
      content: {
        "application/json": {
          schema: { $ref: "#/components/schemas/Error" },
          examples: Object.fromEntries(codes.map((code) => [code, { summary: code, value: errorExample(code) }])),
        },
      },
    };
  }
  return responses;
}

/** The error body as it comes, for one code: the message is the code's meaning, the request ID made up. */
function errorExample(code: ErrorCode) {
  const meaning = CODE_DESCRIPTIONS[code];
  return {
    error: {
      code,
      message: `${meaning.charAt(0).toUpperCase()}${meaning.slice(1)}.`,
      requestId: "0f6c1d2e-3a4b-4c5d-8e9f-a0b1c2d3e4f5",
    },
  };
}

/**
 * A ready-to-paste curl command for the operation (`x-codeSamples`, which the rendered reference shows): the path
 * with example IDs, the token from $TUSSILAGO_TOKEN, and the example body. Built here so every endpoint has one.
 */
function curlSample(endpoint: Endpoint, serverUrl: string): string {
  const url = `${serverUrl}${endpoint.path.replace(/\{[^}]+\}/g, EXAMPLE_PARAM_ID)}`;
  const lines = [`curl -X ${endpoint.method} '${url}'`];
  if (endpoint.auth !== "public") lines.push(`-H "Authorization: Bearer $TUSSILAGO_TOKEN"`);
  if (endpoint.idempotent) lines.push(`-H "Idempotency-Key: $(uuidgen)"`);
  if (endpoint.body && endpoint.examples.request !== undefined) {
    lines.push("-H 'Content-Type: application/json'");
    // JSON inside single quotes: an apostrophe in the example would end the shell string.
    lines.push(`--data '${JSON.stringify(endpoint.examples.request).replaceAll("'", "'\\''")}'`);
  } else if (endpoint.rawBody) {
    lines.push(`-H 'Content-Type: ${endpoint.rawBody.contentTypes[0]}'`, "--data-binary @source.tar.gz");
  }
  // A binary answer is saved under the name the server gives (Content-Disposition), not printed to the terminal.
  if (Object.values(endpoint.responses).some((response) => response.binary)) lines.push("--fail -OJ");
  return lines.join(" \\\n  ");
}

function operationOf(endpoint: Endpoint, serverUrl: string): JsonSchema {
  const operation: JsonSchema = {
    operationId: endpoint.id,
    summary: endpoint.summary,
    tags: endpoint.tags,
    parameters: parametersOf(endpoint),
    responses: responsesOf(endpoint),
    "x-codeSamples": [{ lang: "Shell", label: "curl", source: curlSample(endpoint, serverUrl) }],
  };
  if (endpoint.auth === "public") {
    operation.security = [];
    operation.description = `${endpoint.description}\n\n**Who may call it:** anyone; no token needed.`;
  } else {
    const role = PERMISSIONS[endpoint.auth.permission];
    operation.description =
      `${endpoint.description}\n\n**Who may call it:** a token with the \`${endpoint.auth.scope}\` scope whose ` +
      `role is at least \`${role}\` (a read token acts as a viewer, a read,write token as an admin, both capped by ` +
      "their creator's role).";
    operation["x-required-scope"] = endpoint.auth.scope;
    operation["x-required-role"] = role;
  }
  if (endpoint.body) {
    const example = endpoint.examples.request;
    operation.requestBody = {
      required: true,
      content: {
        "application/json": {
          schema: schemaOf(endpoint.body, "input"),
          ...(example !== undefined ? { example } : {}),
        },
      },
    };
  } else if (endpoint.rawBody) {
    operation.requestBody = {
      required: true,
      description: endpoint.rawBody.description,
      content: Object.fromEntries(
        endpoint.rawBody.contentTypes.map((type) => [type, { schema: { type: "string", format: "binary" } }]),
      ),
    };
  }
  return operation;
}

const TAGS: Record<string, string> = {
  platform: "Health and this document",
  team: "The token's team: members, invitations, the audit log",
  operations: "Asynchronous work to poll",
  apps: "Apps, their settings, env vars, lifecycle and runtime logs",
  deployments: "Uploads, builds and releases",
  runs: "Cron jobs and one-off commands in containers of an app's release",
  databases: "Tenant PostgreSQL databases",
  redis: "Tenant Redis instances",
};

/**
 * The server is the platform's public URL (TUSSILAGO_PUBLIC_URL, else http://<host>:<PORT>), not the request's
 * Host header: a document that clients generate code from must not carry an address a request chose.
 */
export function buildOpenApiDocument(
  serverUrl: string = getEnv().publicUrl,
  registry: readonly Endpoint[] = endpoints,
): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const endpoint of registry) {
    paths[endpoint.path] ??= {};
    (paths[endpoint.path] as Record<string, JsonSchema>)[endpoint.method.toLowerCase()] = operationOf(
      endpoint,
      serverUrl,
    );
  }
  const tags = [...new Set(registry.flatMap((endpoint) => endpoint.tags))].map((name) => ({
    name,
    description: TAGS[name] ?? name,
  }));
  return {
    openapi: "3.1.0",
    info: {
      title: "Tussilago API",
      version: "1",
      description:
        "Self-hosted application platform. Authenticate with `Authorization: Bearer <team API token>`. An unknown " +
        "path under /api/v1 answers 404 and a method a path does not serve 405 (with Allow), both with the error body.",
    },
    servers: [{ url: serverUrl }],
    tags,
    paths,
    components: {
      schemas: { Error: schemaOf(errorBody, "output") },
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A team API token (tsl_...)" } },
    },
    security: [{ bearer: [] }],
  };
}
