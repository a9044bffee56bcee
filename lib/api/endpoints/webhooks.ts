// Deploy on push: an app's webhook (create or rotate, show, turn off) and the public delivery URL forges call.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { iso, isoDate } from "@/lib/api/endpoints/common";
import type { DeliveryView, WebhookView } from "@/lib/domain/webhooks";

const appParams = z.strictObject({ appId: z.uuid() });

const webhookSchema = z.object({
  url: z.string().describe("Paste into the forge's webhook settings (payload URL)"),
  events: z.array(z.string()),
  createdAt: isoDate,
  updatedAt: isoDate,
});

const deliverySchema = z.object({
  id: z.uuid(),
  forge: z.string().describe("github, gitlab, gitea, generic (or unknown for a delivery that did not verify)"),
  event: z.string().nullable(),
  ref: z.string().nullable(),
  sha: z.string().nullable(),
  outcome: z.enum(["deployed", "ignored", "rejected", "duplicate"]),
  reason: z.string(),
  deploymentId: z.uuid().nullable(),
  receivedAt: isoDate,
});

export function webhookJson(webhook: WebhookView): z.input<typeof webhookSchema> {
  return { ...webhook, createdAt: iso(webhook.createdAt), updatedAt: iso(webhook.updatedAt) };
}

export function deliveryJson(delivery: DeliveryView): z.input<typeof deliverySchema> {
  return { ...delivery, receivedAt: iso(delivery.receivedAt) };
}

export const createWebhookEndpoint = defineEndpoint({
  id: "createWebhook",
  method: "POST",
  path: "/api/v1/apps/{appId}/webhook",
  summary: "Create the app's push webhook, or rotate its secret (same URL); the secret is shown in this answer only",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: ["conflict"],
  idempotent: true,
  params: appParams,
  secretFields: ["webhook"],
  responses: {
    201: {
      description: "The webhook with its secret; a replayed Idempotency-Key answers webhook: null",
      schema: z.object({
        webhook: webhookSchema
          .extend({ secret: z.string().describe("The HMAC secret (GitLab: the secret token)") })
          .nullable(),
      }),
    },
    409: { description: "The app is being deleted" },
  },
});

export const getWebhookEndpoint = defineEndpoint({
  id: "getWebhook",
  method: "GET",
  path: "/api/v1/apps/{appId}/webhook",
  summary: "The app's webhook (never its secret) and its 20 newest deliveries",
  tags: ["apps"],
  auth: { scope: "read", permission: "apps:read" },
  errors: [],
  params: appParams,
  responses: {
    200: {
      description: "The webhook and recent deliveries, newest first",
      schema: z.object({ webhook: webhookSchema, deliveries: z.array(deliverySchema) }),
    },
  },
});

export const deleteWebhookEndpoint = defineEndpoint({
  id: "deleteWebhook",
  method: "DELETE",
  path: "/api/v1/apps/{appId}/webhook",
  summary: "Turn the webhook off: its URL answers 401 from then on",
  tags: ["apps"],
  auth: { scope: "write", permission: "apps:write" },
  errors: [],
  params: appParams,
  responses: { 204: { description: "Turned off" } },
});

const deliveryAnswer = z.union([
  z.object({ pong: z.literal(true) }),
  z.object({ ignored: z.string().describe("Why nothing was deployed") }),
  z.object({ deployment: z.object({ id: z.uuid(), number: z.number().int() }) }),
]);

export const receiveDeliveryEndpoint = defineEndpoint({
  id: "receiveWebhookDelivery",
  method: "POST",
  path: "/api/v1/hooks/{urlToken}",
  summary:
    "A forge's push delivery (GitHub, GitLab, Gitea/Forgejo, or X-Tussilago-Signature); verified before it is read",
  tags: ["apps"],
  auth: "public",
  errors: ["unauthenticated", "rate_limited", "unavailable"],
  params: z.strictObject({
    urlToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/)
      .describe("The last segment of the webhook's URL"),
  }),
  rawBody: { contentTypes: ["application/json"], description: "The forge's JSON payload, at most 1 MB" },
  responses: {
    200: { description: "A ping, or a delivery received before", schema: deliveryAnswer },
    202: { description: "Deployed (the new deployment), or ignored with the reason", schema: deliveryAnswer },
    401: { description: "Unknown URL, or a missing or wrong signature (not told apart)" },
    413: { description: "Larger than 1 MB" },
  },
});
