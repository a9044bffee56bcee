// Which error codes an endpoint can answer: the ones every endpoint of its kind can answer (derived from its
// declaration) plus the domain refusals it declares. The OpenAPI document lists exactly these, and the handler
// checks every refusal against them, so the document cannot fall behind the server unnoticed.

import type { Logger } from "pino";
import type { Endpoint } from "@/lib/api/endpoint";
import { PERMISSIONS } from "@/lib/auth/permissions";
import { ERROR_CODES, type ErrorCode } from "@/lib/errors";

export function declaredErrorCodes(endpoint: Endpoint): ErrorCode[] {
  // Every endpoint refuses undeclared or repeated query parameters and an Idempotency-Key it does not honour (422).
  const codes = new Set<ErrorCode>(["invalid", "internal"]);
  if (endpoint.auth !== "public") {
    // Authentication reads the platform database: an outage answers 503 unavailable (lib/api/handler.ts).
    codes.add("unauthenticated").add("unavailable");
    if (endpoint.auth.scope === "write" || PERMISSIONS[endpoint.auth.permission] !== "viewer") codes.add("forbidden");
  }
  // A malformed ID names nothing that exists: 404 like an unknown or foreign one.
  if (endpoint.params) codes.add("not_found");
  if (endpoint.body || endpoint.rawBody) {
    // 415: another media type, or any content coding (lib/api/media-type.ts).
    codes.add("bad_request").add("too_large").add("unsupported_media_type");
  }
  // A key still in use answers 409 (one reused with another request 422, as above).
  if (endpoint.idempotent) codes.add("conflict");
  for (const code of endpoint.errors ?? []) codes.add(code);
  return ERROR_CODES.filter((code) => codes.has(code));
}

/**
 * Called with every refusal an endpoint answers. An undeclared code is a bug in the declaration (the document
 * says the operation cannot answer it): logged in production, thrown under test so a test that reaches it fails.
 * Endpoints that declare no `errors` list (test doubles) are not checked.
 */
export function checkDeclaredError(endpoint: Endpoint, code: ErrorCode, log: Logger): void {
  if (endpoint.errors === undefined || declaredErrorCodes(endpoint).includes(code)) return;
  const message = `${endpoint.id} answered the undeclared error code ${code}: declare it in lib/api/endpoints`;
  log.error({ code }, message);
  if (process.env.NODE_ENV === "test" || process.env.VITEST) throw new Error(message);
}
