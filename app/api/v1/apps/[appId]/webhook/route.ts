import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  deliveryJson,
  getWebhookEndpoint,
  webhookJson,
} from "@/lib/api/endpoints/webhooks";
import { methodsNotAllowed } from "@/lib/api/fallback";
import { handle } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { createOrRotateWebhook, deleteWebhook, getWebhook } from "@/lib/domain/webhooks";

export const POST = handle(createWebhookEndpoint, async ({ ctx, params }) => {
  const { webhook } = await createOrRotateWebhook(getDb(), ctx, params.appId);
  return { status: 201 as const, body: { webhook: { ...webhookJson(webhook), secret: webhook.secret } } };
});

export const GET = handle(getWebhookEndpoint, async ({ ctx, params }) => {
  const { webhook, deliveries } = await getWebhook(getDb(), ctx, params.appId);
  return { status: 200 as const, body: { webhook: webhookJson(webhook), deliveries: deliveries.map(deliveryJson) } };
});

export const DELETE = handle(deleteWebhookEndpoint, async ({ ctx, params }) => {
  await deleteWebhook(getDb(), ctx, params.appId);
  return { status: 204 as const, body: undefined };
});

export const { PUT, PATCH, OPTIONS } = methodsNotAllowed("/api/v1/apps/{appId}/webhook");
