// What the API answers outside its operations, in the same error shape as everything else: an unknown path under
// /api/v1 is 404 (app/api/v1/[...path]/route.ts) and a method a known path does not serve is 405 with Allow. Next's
// own answers to both are empty bodies that API clients cannot parse.
import { randomUUID } from "node:crypto";
import type { HttpMethod } from "@/lib/api/endpoint";
import { endpoints } from "@/lib/api/endpoints";
import { errorResponse } from "@/lib/api/handler";
import { AppError } from "@/lib/errors";

type FallbackRoute = (request: Request) => Promise<Response>;

const METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

function everyMethod(answer: FallbackRoute): Record<HttpMethod, FallbackRoute> {
  return Object.fromEntries(METHODS.map((method) => [method, answer])) as Record<HttpMethod, FallbackRoute>;
}

/** The catch-all's handlers: every method of an unknown path is answered 404. */
export function notFoundRoutes(): Record<HttpMethod, FallbackRoute> {
  return everyMethod(async () => errorResponse(new AppError("not_found", "No such API endpoint."), randomUUID()));
}

/**
 * Handlers for the methods a route file does not export, read from the endpoint registry for its path (OpenAPI
 * style, /api/v1/apps/{appId}). A route file spreads the ones it lacks: `export const { PUT, DELETE } = ...`.
 */
export function methodsNotAllowed(path: string): Record<HttpMethod, FallbackRoute> {
  const served = endpoints.filter((endpoint) => endpoint.path === path).map((endpoint) => endpoint.method);
  if (served.length === 0) throw new Error(`No endpoint is registered for ${path}`);
  // HEAD follows GET in Next; OPTIONS Next answers itself.
  const allow = [...served, ...(served.includes("GET") ? ["HEAD"] : []), "OPTIONS"].join(", ");
  return everyMethod(async (request) =>
    errorResponse(
      new AppError("method_not_allowed", `${request.method} is not served here; use ${served.join(", ")}.`),
      randomUUID(),
      { allow },
    ),
  );
}
