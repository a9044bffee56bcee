import { getOpenApiEndpoint } from "@/lib/api/endpoints/openapi";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { buildOpenApiDocument } from "@/lib/api/openapi";

export const GET = handle(getOpenApiEndpoint, async () => ({ status: 200 as const, body: buildOpenApiDocument() }));

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/openapi.json");
