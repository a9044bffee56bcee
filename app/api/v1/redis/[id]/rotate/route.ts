import { operationJson } from "@/lib/api/endpoints/identity";
import { redisJson, rotateRedisEndpoint } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { rotateRedisPassword } from "@/lib/domain/redis";

export const POST = handle(rotateRedisEndpoint, async ({ ctx, params }) => {
  const { redis, operation } = await rotateRedisPassword(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { redis: redisJson(redis), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/redis/{id}/rotate");
