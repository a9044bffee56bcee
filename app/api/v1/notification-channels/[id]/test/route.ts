import { deliveryJson, testChannelEndpoint } from "@/lib/api/endpoints/notifications";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { testChannel } from "@/lib/domain/notification-channels";

export const POST = handle(testChannelEndpoint, async ({ ctx, params }) => {
  return { status: 202 as const, body: { delivery: deliveryJson(await testChannel(getDb(), ctx, params.id)) } };
});

export const { GET, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/notification-channels/{id}/test");
