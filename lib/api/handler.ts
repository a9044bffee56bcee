// The one wrapper around every route handler: request ID, input parsing, the error table, and no leaks.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { z } from "zod";
import { checkDeclaredError } from "@/lib/api/declared-errors";
import type { Endpoint, EndpointResponse } from "@/lib/api/endpoint";
import {
  checkIdempotencyKeyHeader,
  claimIdempotencyKey,
  redactSecrets,
  releaseIdempotencyKey,
  requestHash,
  storeIdempotentAnswer,
} from "@/lib/api/idempotency";
import {
  checkContentEncoding,
  checkDeclaredMediaType,
  checkJsonMediaType,
  unsupportedMediaType,
} from "@/lib/api/media-type";
import { readQueryString } from "@/lib/api/query";
import { requestMetaFrom } from "@/lib/auth/request-meta";
import { getDb, isDatabaseUnreachable } from "@/lib/db";
import { authenticateApiToken } from "@/lib/domain/api-tokens";
import type { Ctx } from "@/lib/domain/context";
import { noteQuotaRefusal } from "@/lib/domain/notifications";
import { AppError, ERROR_STATUS, type ErrorCode, isAppError } from "@/lib/errors";
import { logger } from "@/lib/logger";

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

type Output<S> = [Exclude<S, undefined>] extends [never]
  ? undefined
  : Exclude<S, undefined> extends z.ZodType
    ? z.output<Exclude<S, undefined>>
    : undefined;

export type HandlerInput<E extends Endpoint> = {
  /** The API token's team context; present on every endpoint that is not public. */
  ctx: E["auth"] extends "public" ? undefined : Ctx;
  params: Output<E["params"]>;
  query: Output<E["query"]>;
  body: Output<E["body"]>;
  request: Request;
  requestId: string;
  log: Logger;
};

type ResponseFor<R extends Record<number, EndpointResponse>> = {
  [Status in keyof R & number]: R[Status] extends { binary: { contentType: string } }
    ? { status: Status; stream: ReadableStream<Uint8Array>; headers?: Record<string, string> }
    : {
        status: Status;
        body: R[Status]["schema"] extends z.ZodType ? z.input<R[Status]["schema"]> : undefined;
        headers?: Record<string, string>;
      };
}[keyof R & number];

export type HandlerResult<E extends Endpoint> = ResponseFor<E["responses"]>;

type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

export function issuesOf(error: z.ZodError): { path: string; message: string; code: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message, code: issue.code }));
}

function json(status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
      "cache-control": "no-store",
      "x-request-id": requestId,
      ...headers,
    },
  });
}

export function errorResponse(error: AppError, requestId: string, extraHeaders: Record<string, string> = {}): Response {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      requestId,
    },
  };
  const headers: Record<string, string> = {
    ...(error.retryAfter ? { "retry-after": String(error.retryAfter) } : {}),
    ...extraHeaders,
  };
  return json(ERROR_STATUS[error.code], body, requestId, headers);
}

function fail(code: ErrorCode, message: string, details?: unknown): never {
  throw new AppError(code, message, { details });
}

async function readJson(request: Request): Promise<{ text: string; value: unknown }> {
  checkJsonMediaType(request.headers);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_JSON_BODY_BYTES)
    fail("too_large", `The request body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_JSON_BODY_BYTES) {
    fail("too_large", `The request body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  }
  // A body without a Content-Type is not assumed to be JSON (a form or a file sent by mistake).
  if (text !== "" && !request.headers.has("content-type")) {
    throw unsupportedMediaType("Send the body as JSON with Content-Type: application/json.");
  }
  if (text.trim() === "") fail("bad_request", "The request body must be a JSON document.");
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    fail("bad_request", "The request body is not valid JSON.");
  }
}

export function handle<E extends Endpoint>(
  endpoint: E,
  handler: (input: HandlerInput<E>) => Promise<HandlerResult<E>>,
): (request: Request, context: RouteContext) => Promise<Response> {
  return async (request, context) => {
    const requestId = randomUUID();
    const log = logger({ requestId }).child({ endpoint: endpoint.id });
    try {
      let ctx: Ctx | undefined;
      if (endpoint.auth !== "public") {
        const header = request.headers.get("authorization") ?? "";
        const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? null;
        ctx = await authenticateApiToken(getDb(), bearer, requestMetaFrom(request.headers, requestId));
        if (endpoint.auth.scope === "write" && ctx.actor.type === "token" && !ctx.actor.scopes.includes("write")) {
          fail("forbidden", "This API token has read access only; this endpoint needs the write scope.");
        }
        log.setBindings({ teamId: ctx.teamId });
      }
      const rawParams = (await context?.params) ?? {};
      let params: unknown;
      if (endpoint.params) {
        const parsed = endpoint.params.safeParse(rawParams);
        // A malformed ID names nothing that exists.
        if (!parsed.success) fail("not_found", "Not found.");
        params = parsed.data;
      }
      // One rule for every endpoint: no repeated or undeclared parameters, no control characters (lib/api/query.ts).
      const url = new URL(request.url);
      const rawQuery = readQueryString(url.searchParams, endpoint.query !== undefined);
      let query: unknown;
      if (endpoint.query) {
        const parsed = endpoint.query.safeParse(rawQuery);
        if (!parsed.success) fail("invalid", "The query string is invalid.", issuesOf(parsed.error));
        query = parsed.data;
      }
      const idempotencyKey = request.headers.get("idempotency-key");
      checkIdempotencyKeyHeader(idempotencyKey, endpoint.idempotent === true);
      if (endpoint.body || endpoint.rawBody) checkContentEncoding(request.headers);
      if (endpoint.rawBody) checkDeclaredMediaType(request.headers, endpoint.rawBody.contentTypes);
      let body: unknown;
      let bodyText = "";
      if (endpoint.body) {
        const raw = await readJson(request);
        bodyText = raw.text;
        const parsed = endpoint.body.safeParse(raw.value);
        if (!parsed.success) fail("invalid", "The request body is invalid.", issuesOf(parsed.error));
        body = parsed.data;
      }
      // Idempotency-Key applies where the endpoint says so (documented there). An endpoint without a body schema
      // reads no body, so its request is the method and path alone; streamed uploads are not covered (refused above).
      let claimedKey: string | null = null;
      if (idempotencyKey !== null && endpoint.idempotent && ctx) {
        const claim = await claimIdempotencyKey(getDb(), {
          teamId: ctx.teamId,
          key: idempotencyKey,
          hash: requestHash(endpoint.method, url.pathname, bodyText),
        });
        if (!claim.claimed) {
          return json(claim.answer.status, claim.answer.body ?? undefined, requestId, {
            ...claim.answer.headers,
            "idempotent-replayed": "true",
          });
        }
        claimedKey = claim.id;
      }
      try {
        const result = await handler({ ctx, params, query, body, request, requestId, log } as HandlerInput<E>);
        const declared = endpoint.responses[result.status];
        if (!declared) throw new Error(`${endpoint.id} answered undeclared status ${result.status}`);
        if (declared.binary) {
          if (!("stream" in result)) throw new Error(`${endpoint.id} answered ${result.status} without its stream`);
          // Bytes, not JSON: no schema to pass, and nothing is stored for idempotency (a download is a GET).
          return new Response(result.stream, {
            status: result.status,
            headers: {
              "content-type": declared.binary.contentType,
              "cache-control": "no-store",
              "x-content-type-options": "nosniff",
              "x-request-id": requestId,
              ...result.headers,
            },
          });
        }
        // Answers go through their schema too: unknown fields are stripped, so internals cannot leak by accident.
        const output = declared.schema ? declared.schema.parse("body" in result ? result.body : undefined) : undefined;
        if (claimedKey) {
          await storeIdempotentAnswer(getDb(), claimedKey, {
            status: result.status,
            body: redactSecrets(output, endpoint.secretFields),
            headers: result.headers ?? {},
          });
        }
        return json(result.status, output, requestId, result.headers);
      } catch (error) {
        // A quota refusal tells the team's channels (quota.reached), once its transaction has rolled back.
        if (ctx) await noteQuotaRefusal(getDb(), ctx.teamId, error);
        // A refusal (4xx) is the answer to this request and is replayed; anything else lets a retry do the work.
        if (claimedKey) {
          if (isAppError(error) && error.status < 500) {
            const answer = errorResponse(error, requestId);
            await storeIdempotentAnswer(getDb(), claimedKey, {
              status: answer.status,
              body: await answer.clone().json(),
              headers: error.retryAfter ? { "retry-after": String(error.retryAfter) } : {},
            });
          } else {
            await releaseIdempotencyKey(getDb(), claimedKey).catch(() => undefined);
          }
        }
        throw error;
      }
    } catch (error) {
      if (isAppError(error)) {
        checkDeclaredError(endpoint, error.code, log);
        if (error.status >= 500) log.error({ err: error }, "request failed");
        if (error.code === "unauthenticated") {
          return errorResponse(error, requestId, { "www-authenticate": 'Bearer realm="tussilago"' });
        }
        return errorResponse(error, requestId);
      }
      // The platform database restarting: a quick 503 the client can retry, not a 500; the pool reconnects alone.
      if (isDatabaseUnreachable(error)) {
        log.warn({ err: error }, "platform database unreachable");
        checkDeclaredError(endpoint, "unavailable", log);
        return errorResponse(
          new AppError("unavailable", "The service is temporarily unavailable. Try again shortly.", {
            retryAfter: 5,
          }),
          requestId,
        );
      }
      log.error({ err: error }, "unexpected error");
      return errorResponse(new AppError("internal", "Something went wrong on our side."), requestId);
    }
  };
}
