// What the API answers outside its operations, in the same error shape as everything else: an unknown path under
// /api/v1 is 404 (app/api/v1/[[...path]]/route.ts) and a method a known path does not serve is 405 with Allow.
// Next's own answers to both are empty or HTML bodies that API clients cannot parse.
import { randomUUID } from "node:crypto";
import type { HttpMethod } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { errorResponse } from "@/lib/api/handler";
import { AppError } from "@/lib/errors";

type FallbackRoute = (request: Request) => Promise<Response>;

const METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

type Handlers = Record<HttpMethod | "OPTIONS", FallbackRoute>;

function everyMethod(answer: FallbackRoute): Record<HttpMethod, FallbackRoute> {
  return Object.fromEntries(METHODS.map((method) => [method, answer])) as Record<HttpMethod, FallbackRoute>;
}

/** The catch-all's handlers: every method of an unknown path is answered 404, OPTIONS too. */
export function notFoundRoutes(): Handlers {
  const notFound: FallbackRoute = async () =>
    errorResponse(new AppError("not_found", "No such API endpoint."), randomUUID());
  return { ...everyMethod(notFound), OPTIONS: notFound };
}

/**
 * Handlers for the methods a route file does not export, read from the endpoint registry for its path (OpenAPI
 * style, /api/v1/apps/{appId}), and OPTIONS. A route file takes the ones it lacks:
 * `export const { PUT, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/...")`.
 */
export function methodsNotAllowed(path: string): Handlers {
  const served = endpoints.filter((endpoint) => endpoint.path === path).map((endpoint) => endpoint.method);
  if (served.length === 0) throw new Error(`No endpoint is registered for ${path}`);
  // HEAD follows GET in Next. OPTIONS is answered here: Next's own would list the 405 handlers as allowed.
  const allow = [...served, ...(served.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
  const options: FallbackRoute = async () =>
    new Response(null, { status: 204, headers: { allow, "cache-control": "no-store", "x-request-id": randomUUID() } });
  return {
    ...everyMethod(async (request) =>
      errorResponse(
        new AppError("method_not_allowed", `${request.method} is not served here; use ${served.join(", ")}.`),
        randomUUID(),
        { allow },
      ),
    ),
    OPTIONS: options,
  };
}
