import { operationJson } from "@/lib/api/endpoints/identity";
import { deleteRedisEndpoint, getRedisEndpoint, redisJson, updateRedisEndpoint } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { deleteRedis, getRedis, updateRedis } from "@/lib/domain/redis";

export const GET = handle(getRedisEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: { redis: redisJson(await getRedis(getDb(), ctx, params.id)) } };
});

export const PATCH = handle(updateRedisEndpoint, async ({ ctx, params, body }) => {
  const redis = await updateRedis(getDb(), ctx, params.id, { appId: body.appId });
  return { status: 200 as const, body: { redis: redisJson(redis) } };
});

export const DELETE = handle(deleteRedisEndpoint, async ({ ctx, params }) => {
  const { redis, operation } = await deleteRedis(getDb(), ctx, params.id);
  return {
    status: 202 as const,
    body: { redis: redisJson(redis), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { POST, PUT, OPTIONS } = methodsNotAllowed("/api/v1/redis/{id}");
