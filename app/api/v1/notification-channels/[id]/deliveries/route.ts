import { deliveryJson, listDeliveriesEndpoint } from "@/lib/api/endpoints/notifications";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { listDeliveries } from "@/lib/domain/notification-channels";

export const GET = handle(listDeliveriesEndpoint, async ({ ctx, params, query }) => {
  const page = await listDeliveries(getDb(), ctx, params.id, query);
  return { status: 200 as const, body: { items: page.items.map(deliveryJson), nextCursor: page.nextCursor } };
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = methodsNotAllowed("/api/v1/notification-channels/{id}/deliveries");
