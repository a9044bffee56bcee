// An endpoint is declared once, as data: method, path, zod schemas for every input and answer. The route handler
// and the OpenAPI document are both built from the declaration, so what is served is what is documented.
import { z } from "zod";
import type { Permission } from "@/lib/auth/permissions";
import { ERROR_CODES, type ErrorCode } from "@/lib/errors";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type EndpointResponse = {
  description: string;
  schema?: z.ZodType;
  headers?: Record<string, string>;
  /**
   * The answer is a byte stream of this media type, not JSON (a backup download): the handler returns `stream`
   * instead of `body`, and the document shows a binary body. Errors before the first byte are still JSON.
   */
  binary?: { contentType: string };
};

/**
 * Examples the document shows next to the schemas (and the rendered reference at /docs/api). Typed from the
 * endpoint's own schemas, and validated against the generated document in lib/api/openapi-docs.test.ts, so an
 * example cannot drift from what the server accepts and answers.
 */
export type EndpointExamples<Body extends z.ZodType, Responses extends Record<number, EndpointResponse>> = {
  /** A body the endpoint accepts: required when it reads a JSON body. */
  request?: z.input<Body>;
  /** An answer per status; required for every 2xx status with a schema. */
  responses: {
    [Status in keyof Responses]?: Responses[Status] extends { schema: infer Schema extends z.ZodType }
      ? z.output<Schema>
      : never;
  };
};

export type Endpoint<
  Params extends z.ZodType = z.ZodType,
  Query extends z.ZodType = z.ZodType,
  Body extends z.ZodType = z.ZodType,
  Responses extends Record<number, EndpointResponse> = Record<number, EndpointResponse>,
> = {
  id: string;
  method: HttpMethod;
  /** OpenAPI style: /api/v1/invitations/{id} */
  path: string;
  /** A short title: what the operation does, in a few words. */
  summary: string;
  /**
   * Markdown: what it does, what it changes or enqueues (and how to follow that), and what its domain refusals
   * mean here. The generator adds who may call it (scope and role) from `auth`.
   */
  description: string;
  examples: EndpointExamples<Body, Responses>;
  tags: string[];
  /**
   * "public": no credentials; otherwise a team API token with at least this scope, whose role allows the
   * permission the domain function authorizes (lib/auth/permissions.ts): the document states both.
   */
  auth: "public" | { scope: "read" | "write"; permission: Permission };
  params?: Params;
  query?: Query;
  body?: Body;
  /** A body that is not JSON (an upload), streamed to the handler as it is: its media types, as the document says. */
  rawBody?: { contentTypes: readonly string[]; description: string };
  responses: Responses;
  /**
   * The error codes the domain can refuse with, beyond the ones every endpoint of its kind can answer (derived in
   * declaredErrorCodes). The document lists them and, in tests, the handler throws on any code not declared.
   */
  errors?: readonly ErrorCode[];
  /** Whether the handler honours Idempotency-Key (documented as a header parameter on exactly these). */
  idempotent?: boolean;
  /**
   * Top-level answer fields that hold a secret shown once (an invitation link, a token, a password). The
   * idempotency store keeps the answer with these fields set to null, so the database holds no secret and a
   * replay answers without them: declare each such field nullable in its schema.
   */
  secretFields?: readonly string[];
};

export function defineEndpoint<
  Params extends z.ZodType,
  Query extends z.ZodType,
  Body extends z.ZodType,
  Responses extends Record<number, EndpointResponse>,
>(endpoint: Endpoint<Params, Query, Body, Responses>): Endpoint<Params, Query, Body, Responses> {
  return endpoint;
}

export const errorBody = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string(),
  }),
});
