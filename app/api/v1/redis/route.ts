import { operationJson } from "@/lib/api/endpoints/identity";
import { createRedisEndpoint, listRedisEndpoint, redisJson } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createRedis, listRedis } from "@/lib/domain/redis";

export const GET = handle(listRedisEndpoint, async ({ ctx, query }) => {
  const page = await listRedis(getDb(), ctx, query);
  return { status: 200 as const, body: { items: page.items.map(redisJson), nextCursor: page.nextCursor } };
});

export const POST = handle(createRedisEndpoint, async ({ ctx, body }) => {
  const { redis, operation } = await createRedis(getDb(), ctx, body);
  return {
    status: 202 as const,
    body: { redis: redisJson(redis), operation: operationJson(operation) },
    headers: { location: `/api/v1/operations/${operation.id}` },
  };
});

export const { PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/redis");
