// Deploy on push: an app's webhook (create or rotate, show, turn off) and the public delivery URL forges call.
import { z } from "zod";
import { defineEndpoint } from "@/lib/api/endpoint";
import { iso, isoDate } from "@/lib/api/endpoints/common";
import { EXAMPLE_IDS, EXAMPLE_TIME } from "@/lib/api/endpoints/examples";
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
  description:
    "Creates the app's push webhook, or rotates its secret (the URL stays). The secret is in this answer only: paste the URL and the secret into the forge's webhook settings. `409` while the app is being deleted. Audited as `webhook.created` or `webhook.rotated`.",
  examples: {
    responses: {
      201: {
        webhook: {
          url: "https://tussilago.example.org/api/v1/hooks/q3N5b1o0Zt8cV2mXw7Lr4YkP9sJd6HfGa1Ue0Ti_Bc-",
          secret: "whsec_4f1c9e0b7a2d5c8e3b6a9d0c1e4f7a2b",
          events: ["push"],
          createdAt: EXAMPLE_TIME,
          updatedAt: EXAMPLE_TIME,
        },
      },
    },
  },
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
  description:
    "The app's webhook (its URL, never its secret) and its 20 newest deliveries with what each did: deployed, ignored (and why), rejected or duplicate. `404` when the app has no webhook.",
  examples: {
    responses: {
      200: {
        webhook: {
          url: "https://tussilago.example.org/api/v1/hooks/q3N5b1o0Zt8cV2mXw7Lr4YkP9sJd6HfGa1Ue0Ti_Bc-",
          events: ["push"],
          createdAt: EXAMPLE_TIME,
          updatedAt: EXAMPLE_TIME,
        },
        deliveries: [
          {
            id: "17a0a7c9-d8eb-4acd-9e2f-7ac5fbd7d8c9",
            forge: "github",
            event: "push",
            ref: "refs/heads/main",
            sha: "3b18e512dba79e4c8300dd08aeb37f8e728b8dad",
            outcome: "deployed",
            reason: "Push to main",
            deploymentId: EXAMPLE_IDS.deployment,
            receivedAt: EXAMPLE_TIME,
          },
        ],
      },
    },
  },
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
  description: "Turns the app's webhook off: its URL answers `401` from then on. Audited as `webhook.deleted`.",
  examples: { responses: {} },
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
  description:
    "Where a forge sends pushes (GitHub, GitLab, Gitea/Forgejo, or a generic sender signing with `X-Tussilago-Signature`). The signature is verified before the body is read; a push to the app's ref with `autoDeploy` on starts a deployment of exactly the pushed commit. `401` for an unknown URL or a bad signature (not told apart), `429` when a URL receives too many deliveries, `503` while the platform database is down.",
  examples: {
    responses: {
      200: { pong: true },
      202: { deployment: { id: EXAMPLE_IDS.deployment, number: 7 } },
    },
  },
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
