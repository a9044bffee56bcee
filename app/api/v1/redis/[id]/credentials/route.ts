import { redisCredentialsEndpoint } from "@/lib/api/endpoints/services";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { revealRedisCredentials } from "@/lib/domain/redis";

// The answer carries a password: handle() marks every answer no-store, and nothing here logs it.
export const GET = handle(redisCredentialsEndpoint, async ({ ctx, params }) => {
  return { status: 200 as const, body: await revealRedisCredentials(getDb(), ctx, params.id) };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/redis/{id}/credentials");
